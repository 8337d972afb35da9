/*  st_pii.h — rules for personal data (citizen ID numbers, mobile phones, e-mail addresses) and
    how it is masked

    Pure functions: no allocation, no global state, safe from any thread. Reasons returned
    through `why` are static strings in PostgreSQL style (lower case, no final period) that a
    handler may send back to the user as they are.
*/
#ifndef ST_PII_H_INCLUDED
#define ST_PII_H_INCLUDED

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Characters in a citizen ID number (GB 11643-1999) and a mainland mobile number
#define ST_ID_NUMBER_LEN 18
#define ST_PHONE_LEN     11

//  Buffer sizes that hold a masked ID number or phone number with its NUL
#define ST_ID_NUMBER_MASK_SIZE (ST_ID_NUMBER_LEN + 1)
#define ST_PHONE_MASK_SIZE     (ST_PHONE_LEN + 1)

//  The longest e-mail address a path of SMTP carries (RFC 5321 with its erratum 1690), its
//  longest local part, and a buffer that holds a masked address with its NUL
#define ST_EMAIL_MAX_LEN   254
#define ST_EMAIL_LOCAL_MAX 64
#define ST_EMAIL_MASK_SIZE (ST_EMAIL_MAX_LEN + 4)

//  What a valid ID number says about its holder
typedef struct {
    int year;    //  birth year, 1900 or later
    int month;   //  1..12
    int day;     //  1..31
    char gender; //  'M' when the 17th digit is odd, 'F' when it is even
} st_id_info_t;

//  Tidies an ID number as typed, in place: strips leading and trailing ASCII white space and
//  upper-cases a final 'x'. Call it on user input before st_id_number_check, which accepts only
//  the canonical upper-case form so that one person has one stored value and one keyed hash.
//  Does nothing when id is NULL.
void st_id_number_normalise (char *id);

//  Checks a citizen ID number against GB 11643-1999 as of the date today_yyyymmdd (for example
//  20240615): 17 digits and a check character ('0'-'9' or upper-case 'X'), the ISO 7064
//  MOD 11-2 check digit, a region prefix not starting with 0, and a real birth date from
//  1900-01-01 to today. Returns 0 and fills *info when valid; otherwise returns -1 and points
//  *why at a static reason. info and why may be NULL.
int st_id_number_check_at (const char *id, int today_yyyymmdd, st_id_info_t *info,
                           const char **why);

//  Same as st_id_number_check_at with today's date in China Standard Time (UTC+8, whatever the
//  server's time zone is).
int st_id_number_check (const char *id, st_id_info_t *info, const char **why);

//  Checks a mainland mobile number: exactly 11 ASCII digits, the first '1', the second '3' to
//  '9'. Returns 0 when valid; otherwise -1 with *why pointing at a static reason. why may be
//  NULL.
int st_phone_check (const char *phone, const char **why);

//  Checks an e-mail address as a person gives it for notices: at most 254 characters, printable
//  ASCII only (no space, no control character; an internationalised domain in its xn-- form),
//  one '@', a local part of 1 to 64 characters in dot-atom form (letters, digits and
//  !#$%&'*+-/=?^_`{|}~, dots between them), and a domain of at least two dot-separated labels
//  of letters, digits and hyphens (none empty, none starting or ending with a hyphen). Quoted
//  local parts and address literals are refused: nothing in an accepted address needs quoting
//  in a mail header. Returns 0 when valid; otherwise -1 with *why pointing at a static reason.
//  why may be NULL.
int st_email_check (const char *email, const char **why);

//  Writes a masked copy of an e-mail address to out: the first character of the local part,
//  "***", then '@' and the domain ("z***@example.com"); a first character that is not an
//  ASCII letter or digit shows as '*'. Input without '@' gives "***". Cut to fit out_size and
//  always NUL-terminated (out_size > 0). A NULL email gives "".
void st_mask_email (const char *email, char *out, size_t out_size);

//  Writes a masked copy of an ID number to out: the first 4 and last 4 characters are kept and
//  the rest become '*' ("3603**********1234"). Input too short to keep anything, or any kept
//  character that is not an ASCII letter or digit, is masked too, so out is always ASCII. The
//  output has the input's length, cut to fit out_size and always NUL-terminated (out_size > 0).
//  A NULL id gives "".
void st_mask_id_number (const char *id, char *out, size_t out_size);

//  Writes a masked copy of a phone number to out: the first 3 and last 4 characters are kept
//  ("138****5678"); otherwise the same rules as st_mask_id_number.
void st_mask_phone (const char *phone, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif

#endif
