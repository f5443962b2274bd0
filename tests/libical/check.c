/* Parse one iCalendar object from stdin with libical (the library behind Evolution) and apply
 * RFC 5546's per-method restriction tables with icalrestriction_check. Print every X-LIC-ERROR
 * libical attached (parse errors included) as "COMPONENT: error", one a line; exit 1 if any. */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>

static int report(icalcomponent *comp)
{
    int errors = 0;
    for (icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_XLICERROR_PROPERTY);
         prop != NULL;
         prop = icalcomponent_get_next_property(comp, ICAL_XLICERROR_PROPERTY)) {
        printf("%s: %s\n", icalcomponent_kind_to_string(icalcomponent_isa(comp)),
               icalproperty_get_xlicerror(prop));
        errors++;
    }
    for (icalcomponent *sub = icalcomponent_get_first_component(comp, ICAL_ANY_COMPONENT);
         sub != NULL;
         sub = icalcomponent_get_next_component(comp, ICAL_ANY_COMPONENT)) {
        errors += report(sub);
    }
    return errors;
}

int main(void)
{
    size_t size = 0, used = 0;
    char *text = NULL;
    for (;;) {
        if (used + 4096 + 1 > size) {
            size = (used + 4096 + 1) * 2;
            text = realloc(text, size);
            if (text == NULL) {
                fputs("out of memory\n", stderr);
                return 2;
            }
        }
        size_t got = fread(text + used, 1, 4096, stdin);
        used += got;
        if (got == 0) break;
    }
    text[used] = '\0';
    icalcomponent *calendar = icalparser_parse_string(text);
    free(text);
    if (calendar == NULL) {
        puts("PARSE: libical could not parse the input");
        return 1;
    }
    int valid = icalrestriction_check(calendar);
    int errors = report(calendar);
    icalcomponent_free(calendar);
    if (!valid && errors == 0) {
        puts("VCALENDAR: icalrestriction_check failed without a message");
        return 1;
    }
    return errors ? 1 : 0;
}
