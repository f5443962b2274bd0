"""Norway's conventions: dates in Bokmål, alphabetical order, the Troms municipalities."""
