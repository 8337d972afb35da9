/*  st_pii_test.c — tests of the ID number and phone rules and of masking

    Check characters are computed here with the recursive form of ISO 7064 MOD 11-2, not with
    the weight table st_pii.c uses, so that a wrong table cannot pass its own test.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "st_pii.h"

//  A fixed "today" so that the tests do not depend on the clock
#define TODAY 20240615

//  Check character for 17 digits by the recursive MOD 11-2 rule
static char
s_mod11_2 (const char *body)
{
    int p = 0;
    for (int i = 0; i < 17; i++)
        p = ((p + (body[i] - '0')) * 2) % 11;
    int check = (12 - p) % 11;
    return check == 10 ? 'X' : (char) ('0' + check);
}

//  Writes region (6) + birth (8) + sequence (3) + its check character into id[19]
static void
s_make_id (char id[19], const char *region, const char *birth, const char *sequence)
{
    assert_int_equal (strlen (region), 6);
    assert_int_equal (strlen (birth), 8);
    assert_int_equal (strlen (sequence), 3);
    snprintf (id, 19, "%s%s%s", region, birth, sequence);
    id[17] = s_mod11_2 (id);
    id[18] = '\0';
}

//  Asserts that id is refused as of TODAY with exactly the reason expected
static void
s_assert_refused (const char *id, const char *expected)
{
    st_id_info_t info = {.year = 1};
    const char *why = NULL;
    assert_int_equal (st_id_number_check_at (id, TODAY, &info, &why), -1);
    assert_non_null (why);
    assert_string_equal (why, expected);
    assert_int_equal (info.year, 0);
}

static void
test_id_valid_numbers (void **state)
{
    //  The sample number printed in the standard's own examples
    st_id_info_t info;
    const char *why = "unset";
    assert_int_equal (st_id_number_check_at ("11010519491231002X", TODAY, &info, &why), 0);
    assert_null (why);
    assert_int_equal (info.year, 1949);
    assert_int_equal (info.month, 12);
    assert_int_equal (info.day, 31);
    assert_int_equal (info.gender, 'F');

    struct {
        const char *region, *birth, *sequence;
        int year, month, day;
        char gender;
    } cases[] = {
        {"360302", "19900101", "123", 1990, 1, 1, 'M'},   //  Anyuan district, Pingxiang
        {"360321", "19851120", "046", 1985, 11, 20, 'F'}, //  Lianhua county
        {"440305", "20000229", "017", 2000, 2, 29, 'M'},  //  2000 is a leap year
        {"650102", "19000101", "002", 1900, 1, 1, 'F'},   //  the earliest date allowed
        {"360302", "20240615", "999", 2024, 6, 15, 'M'},  //  born today
        {"810000", "19761231", "358", 1976, 12, 31, 'F'}, //  Hong Kong residence permit
        {"910101", "19991009", "990", 1999, 10, 9, 'F'},  //  region starting with 9
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[19];
        s_make_id (id, cases[i].region, cases[i].birth, cases[i].sequence);
        memset (&info, 0, sizeof info);
        why = "unset";
        assert_int_equal (st_id_number_check_at (id, TODAY, &info, &why), 0);
        assert_null (why);
        assert_int_equal (info.year, cases[i].year);
        assert_int_equal (info.month, cases[i].month);
        assert_int_equal (info.day, cases[i].day);
        assert_int_equal (info.gender, cases[i].gender);
        //  info and why are optional
        assert_int_equal (st_id_number_check_at (id, TODAY, NULL, NULL), 0);
    }
}

static void
test_id_every_wrong_check_digit (void **state)
{
    char id[19];
    s_make_id (id, "360302", "19900101", "123");
    const char *all = "0123456789X";
    int refused = 0;
    for (const char *c = all; *c; c++) {
        id[17] = *c;
        if (*c == s_mod11_2 (id))
            assert_int_equal (st_id_number_check_at (id, TODAY, NULL, NULL), 0);
        else {
            s_assert_refused (id, "check digit does not match");
            refused++;
        }
    }
    assert_int_equal (refused, 10);

    //  A one-digit typo in the body is caught too
    s_make_id (id, "360302", "19900101", "123");
    id[15] = '4';
    s_assert_refused (id, "check digit does not match");
    //  and so is swapping two different adjacent digits
    s_make_id (id, "360302", "19900101", "123");
    char t = id[14];
    id[14] = id[15];
    id[15] = t;
    s_assert_refused (id, "check digit does not match");
}

static void
test_id_x_check_character (void **state)
{
    //  Find a sequence whose check character is X
    char id[19] = "";
    for (int seq = 0; seq < 1000; seq++) {
        char sequence[4];
        snprintf (sequence, sizeof sequence, "%03d", seq);
        s_make_id (id, "360302", "19881008", sequence);
        if (id[17] == 'X')
            break;
    }
    assert_int_equal (id[17], 'X');
    st_id_info_t info;
    assert_int_equal (st_id_number_check_at (id, TODAY, &info, NULL), 0);
    assert_int_equal (info.year, 1988);

    //  Lower case is refused by the check, with its own reason, and fixed by normalising
    id[17] = 'x';
    s_assert_refused (id, "check character \"x\" must be upper-case \"X\"");
    st_id_number_normalise (id);
    assert_int_equal (id[17], 'X');
    assert_int_equal (st_id_number_check_at (id, TODAY, NULL, NULL), 0);

    //  Any other letter is not a check character
    id[17] = 'Y';
    s_assert_refused (id, "check character must be a digit or \"X\"");
}

static void
test_id_impossible_dates (void **state)
{
    const char *not_real[] = {
        "19010229", //  1901 is not a leap year
        "19000229", //  1900 is not a leap year: divisible by 100, not by 400
        "19901301", //  month 13
        "19900001", //  month 00
        "19900100", //  day 00
        "19900431", //  April has 30 days
        "19900132", //  day 32
        "19909999",
    };
    for (size_t i = 0; i < sizeof not_real / sizeof not_real[0]; i++) {
        char id[19];
        s_make_id (id, "360302", not_real[i], "123");
        s_assert_refused (id, "birth date is not a real date");
    }
    //  Leap days that exist
    const char *leap[] = {"19960229", "20000229", "20240229"};
    for (size_t i = 0; i < sizeof leap / sizeof leap[0]; i++) {
        char id[19];
        s_make_id (id, "360302", leap[i], "123");
        assert_int_equal (st_id_number_check_at (id, TODAY, NULL, NULL), 0);
    }
}

static void
test_id_dates_out_of_range (void **state)
{
    char id[19];
    s_make_id (id, "360302", "20240616", "123");
    s_assert_refused (id, "birth date is in the future");
    //  The same number is fine a day later
    assert_int_equal (st_id_number_check_at (id, 20240616, NULL, NULL), 0);

    s_make_id (id, "360302", "20250101", "123");
    s_assert_refused (id, "birth date is in the future");

    s_make_id (id, "360302", "18991231", "123");
    s_assert_refused (id, "birth date is before 1900");
    s_make_id (id, "360302", "00000101", "123");
    s_assert_refused (id, "birth date is before 1900");
}

static void
test_id_uses_current_date (void **state)
{
    char id[19];
    s_make_id (id, "360302", "19900101", "123");
    st_id_info_t info;
    assert_int_equal (st_id_number_check (id, &info, NULL), 0);
    assert_int_equal (info.year, 1990);

    const char *why = NULL;
    s_make_id (id, "360302", "29991231", "123");
    assert_int_equal (st_id_number_check (id, NULL, &why), -1);
    assert_string_equal (why, "birth date is in the future");
}

static void
test_id_legacy_and_lengths (void **state)
{
    s_assert_refused ("110105491231002", "15-digit legacy ID numbers are not accepted");
    s_assert_refused ("36030290010112", "ID number must be 18 characters long");      //  14
    s_assert_refused ("1101054912310X2", "ID number must be 18 characters long");     //  15, X
    s_assert_refused ("3603021990010112", "ID number must be 18 characters long");    //  16
    s_assert_refused ("36030219900101123", "ID number must be 18 characters long");   //  17
    s_assert_refused ("3603021990010112345", "ID number must be 18 characters long"); //  19
    s_assert_refused ("36030219900101123456789012345678901234567890",
                      "ID number must be 18 characters long");
    s_assert_refused ("1", "ID number must be 18 characters long");
    s_assert_refused ("", "ID number is empty");
    s_assert_refused (NULL, "ID number is empty");
}

static void
test_id_letters_in_body (void **state)
{
    const char *expected = "the first 17 characters of an ID number must be digits";
    char id[19];
    s_make_id (id, "360302", "19900101", "123");
    for (int i = 0; i < 17; i++) {
        char saved = id[i];
        id[i] = 'A';
        s_assert_refused (id, expected);
        id[i] = 'X';
        s_assert_refused (id, expected);
        id[i] = ' ';
        s_assert_refused (id, expected);
        id[i] = saved;
    }
    s_assert_refused ("36030219900101-123", expected);
    //  Full-width digits are three bytes each, so this is the wrong length
    s_assert_refused ("\xef\xbc\x93"
                      "6030219900101123X",
                      "ID number must be 18 characters long");
    //  Bytes that are not ASCII at the right length
    s_assert_refused ("\xb3\xb6\xb0\xb3\xb0\xb2"
                      "199001011234",
                      expected);
}

static void
test_id_region_and_gender (void **state)
{
    char id[19];
    s_make_id (id, "060302", "19900101", "123");
    s_assert_refused (id, "region code must not start with 0");

    for (int digit = 0; digit <= 9; digit++) {
        char sequence[4];
        snprintf (sequence, sizeof sequence, "00%d", digit);
        s_make_id (id, "360302", "19900101", sequence);
        st_id_info_t info;
        assert_int_equal (st_id_number_check_at (id, TODAY, &info, NULL), 0);
        assert_int_equal (info.gender, digit % 2 ? 'M' : 'F');
    }
}

static void
test_id_normalise (void **state)
{
    char id[64];
    strcpy (id, " \t11010519491231002x\r\n");
    st_id_number_normalise (id);
    assert_string_equal (id, "11010519491231002X");
    assert_int_equal (st_id_number_check_at (id, TODAY, NULL, NULL), 0);

    //  Only the final character is the check character
    strcpy (id, "1101051949123100x2");
    st_id_number_normalise (id);
    assert_string_equal (id, "1101051949123100x2");

    strcpy (id, "   ");
    st_id_number_normalise (id);
    assert_string_equal (id, "");
    strcpy (id, "");
    st_id_number_normalise (id);
    assert_string_equal (id, "");
    strcpy (id, "x");
    st_id_number_normalise (id);
    assert_string_equal (id, "X");
    st_id_number_normalise (NULL);
}

static void
test_phone_good (void **state)
{
    const char *good[] = {"13812345678", "13000000000", "14700000000", "15912345678",
                          "16612345678", "17012345678", "18812345678", "19912345678"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *why = "unset";
        assert_int_equal (st_phone_check (good[i], &why), 0);
        assert_null (why);
        assert_int_equal (st_phone_check (good[i], NULL), 0);
    }
}

static void
test_phone_bad (void **state)
{
    struct {
        const char *phone, *why;
    } bad[] = {
        {NULL, "phone number is empty"},
        {"", "phone number is empty"},
        {"1381234567", "phone number must be 11 digits long"},
        {"138123456789", "phone number must be 11 digits long"},
        {"+8613812345678", "phone number must be 11 digits long"},
        {"138 1234 5678", "phone number must be 11 digits long"},
        {"138-1234567", "phone number must contain only digits"},
        {"1381234567a", "phone number must contain only digits"},
        {"\xef\xbc\x91\xef\xbc\x93\xef\xbc\x98\x31\x32", "phone number must contain only digits"},
        {"10012345678", "mobile phone number must start with 13 to 19"},
        {"11012345678", "mobile phone number must start with 13 to 19"},
        {"12812345678", "mobile phone number must start with 13 to 19"},
        {"23812345678", "mobile phone number must start with 13 to 19"},
        {"03812345678", "mobile phone number must start with 13 to 19"},
        {"07991234567", "mobile phone number must start with 13 to 19"}, //  a landline
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        assert_int_equal (st_phone_check (bad[i].phone, &why), -1);
        assert_non_null (why);
        assert_string_equal (why, bad[i].why);
        assert_int_equal (st_phone_check (bad[i].phone, NULL), -1);
    }
}

static void
test_mask_id_number (void **state)
{
    char out[ST_ID_NUMBER_MASK_SIZE];
    st_mask_id_number ("360302199001011234", out, sizeof out);
    assert_string_equal (out, "3603**********1234");
    st_mask_id_number ("11010519491231002X", out, sizeof out);
    assert_string_equal (out, "1101**********002X");

    //  Short input: nothing can be kept
    st_mask_id_number ("12345678", out, sizeof out);
    assert_string_equal (out, "********");
    st_mask_id_number ("1", out, sizeof out);
    assert_string_equal (out, "*");
    st_mask_id_number ("", out, sizeof out);
    assert_string_equal (out, "");
    st_mask_id_number (NULL, out, sizeof out);
    assert_string_equal (out, "");
    //  Just long enough to keep both ends
    st_mask_id_number ("123456789", out, sizeof out);
    assert_string_equal (out, "1234*6789");
    //  15-digit legacy numbers mask the same way
    st_mask_id_number ("110105491231002", out, sizeof out);
    assert_string_equal (out, "1101*******1002");

    //  Odd characters at the kept ends are masked: the output stays ASCII
    st_mask_id_number ("\xe5\xbc\xa0\xe4\xb8\x89"
                       "1990010112"
                       "\xe4\xb8\x89",
                       out, sizeof out);
    assert_string_equal (out, "***************2**");
    st_mask_id_number ("36 3-19900101123 4", out, sizeof out);
    assert_string_equal (out, "36*3**********23*4");

    //  Longer than out: cut, never overrun, still NUL-terminated
    char small[8];
    memset (small, '#', sizeof small);
    st_mask_id_number ("360302199001011234", small, sizeof small);
    assert_string_equal (small, "3603***");
    char one[1] = {'#'};
    st_mask_id_number ("360302199001011234", one, sizeof one);
    assert_int_equal (one[0], '\0');
    //  out_size 0 writes nothing
    char untouched = '#';
    st_mask_id_number ("360302199001011234", &untouched, 0);
    assert_int_equal (untouched, '#');

    //  Long input into a large buffer keeps the input's length
    char big[64];
    st_mask_id_number ("3603021990010112345678", big, sizeof big);
    assert_string_equal (big, "3603**************5678");
}

static void
test_mask_phone (void **state)
{
    char out[ST_PHONE_MASK_SIZE];
    st_mask_phone ("13812345678", out, sizeof out);
    assert_string_equal (out, "138****5678");
    st_mask_phone ("1381234", out, sizeof out);
    assert_string_equal (out, "*******");
    st_mask_phone ("13812345", out, sizeof out);
    assert_string_equal (out, "138*2345");
    st_mask_phone ("", out, sizeof out);
    assert_string_equal (out, "");
    st_mask_phone (NULL, out, sizeof out);
    assert_string_equal (out, "");
    st_mask_phone ("138123456789999", out, sizeof out);
    assert_string_equal (out, "138********");

    char small[5];
    st_mask_phone ("13812345678", small, sizeof small);
    assert_string_equal (small, "138*");
}

static void
test_email_good (void **state)
{
    const char *good[] = {"zhang.san@example.com", "z@ex.cn", "li+notices@mail.example.org.cn",
                          "o'brien@xn--fiqs8s.xn--fiqz9s", "a!#$%&'*+-/=?^_`{|}~b@a-b.c1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *why = "unset";
        assert_int_equal (st_email_check (good[i], &why), 0);
        assert_null (why);
    }
    //  254 characters in all, 64 before the @, labels of 63
    char longest[ST_EMAIL_MAX_LEN + 1];
    memset (longest, 'a', 64);
    longest[64] = '@';
    memset (longest + 65, 'b', 63);
    longest[128] = '.';
    memset (longest + 129, 'c', 63);
    longest[192] = '.';
    memset (longest + 193, 'd', 58);
    memcpy (longest + 251, ".cn", 4);
    assert_int_equal (strlen (longest), ST_EMAIL_MAX_LEN);
    assert_int_equal (st_email_check (longest, NULL), 0);
}

static void
test_email_bad (void **state)
{
    struct {
        const char *email, *why;
    } bad[] = {
        {NULL, "e-mail address is empty"},
        {"", "e-mail address is empty"},
        {"zhang san@example.com", "e-mail address must not contain spaces"},
        {"zhang@example.com ", "e-mail address must not contain spaces"},
        {"zhang\x01@example.com", "e-mail address must not contain control characters"},
        {"zhang@example.com\r\nBcc: x@y.z", "e-mail address must not contain spaces"},
        {"\xe5\xbc\xa0@example.com", "e-mail address must be ASCII (a domain in its xn-- form)"},
        {"zhang.example.com", "e-mail address must contain exactly one @"},
        {"zhang@@example.com", "e-mail address must contain exactly one @"},
        {"a@b@example.com", "e-mail address must contain exactly one @"},
        {"@example.com", "e-mail address has nothing before the @"},
        {".zhang@example.com", "e-mail address has a misplaced dot before the @"},
        {"zhang.@example.com", "e-mail address has a misplaced dot before the @"},
        {"zh..ang@example.com", "e-mail address has a misplaced dot before the @"},
        {"\"zhang\"@example.com", "e-mail address has a character that needs quoting before the @"},
        {"zhang<x>@example.com", "e-mail address has a character that needs quoting before the @"},
        {"zhang,li@example.com", "e-mail address has a character that needs quoting before the @"},
        {"zhang@localhost", "e-mail domain must contain a dot"},
        {"zhang@", "e-mail domain must contain a dot"},
        {"zhang@example..com", "e-mail domain has an empty or overlong label"},
        {"zhang@.example.com", "e-mail domain has an empty or overlong label"},
        {"zhang@example.com.", "e-mail domain has an empty or overlong label"},
        {"zhang@-example.com", "e-mail domain has a label starting or ending with a hyphen"},
        {"zhang@example-.com", "e-mail domain has a label starting or ending with a hyphen"},
        {"zhang@[127.0.0.1]", "e-mail domain may hold only letters, digits, hyphens and dots"},
        {"zhang@exa_mple.com", "e-mail domain may hold only letters, digits, hyphens and dots"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        assert_int_equal (st_email_check (bad[i].email, &why), -1);
        assert_non_null (why);
        assert_string_equal (why, bad[i].why);
        assert_int_equal (st_email_check (bad[i].email, NULL), -1);
    }
    //  Too long: 255 characters, or 65 before the @
    char text[300];
    memset (text, 'a', sizeof text);
    memcpy (text + 240, "@example.com", 12);
    text[255] = 0;
    const char *why = NULL;
    assert_int_equal (st_email_check (text, &why), -1);
    assert_string_equal (why, "e-mail address must be at most 254 characters long");
    memset (text, 'a', 65);
    strcpy (text + 65, "@example.com");
    assert_int_equal (st_email_check (text, &why), -1);
    assert_string_equal (why, "e-mail address has more than 64 characters before the @");
    text[64] = 0;
    strcpy (text + 64, "@example.com");
    assert_int_equal (st_email_check (text, NULL), 0);
}

static void
test_mask_email (void **state)
{
    char out[ST_EMAIL_MASK_SIZE];
    st_mask_email ("zhang.san@example.com", out, sizeof out);
    assert_string_equal (out, "z***@example.com");
    st_mask_email ("z@ex.cn", out, sizeof out);
    assert_string_equal (out, "z***@ex.cn");
    //  A first character other than a letter or a digit shows as a star
    st_mask_email ("+tag@ex.cn", out, sizeof out);
    assert_string_equal (out, "****@ex.cn");
    st_mask_email ("no-at-sign", out, sizeof out);
    assert_string_equal (out, "***");
    st_mask_email (NULL, out, sizeof out);
    assert_string_equal (out, "");
    char small[8];
    st_mask_email ("zhang.san@example.com", small, sizeof small);
    assert_string_equal (small, "z***@ex");
    char untouched = '#';
    st_mask_email ("zhang.san@example.com", &untouched, 0);
    assert_int_equal (untouched, '#');
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_id_valid_numbers),
        cmocka_unit_test (test_id_every_wrong_check_digit),
        cmocka_unit_test (test_id_x_check_character),
        cmocka_unit_test (test_id_impossible_dates),
        cmocka_unit_test (test_id_dates_out_of_range),
        cmocka_unit_test (test_id_uses_current_date),
        cmocka_unit_test (test_id_legacy_and_lengths),
        cmocka_unit_test (test_id_letters_in_body),
        cmocka_unit_test (test_id_region_and_gender),
        cmocka_unit_test (test_id_normalise),
        cmocka_unit_test (test_phone_good),
        cmocka_unit_test (test_phone_bad),
        cmocka_unit_test (test_mask_id_number),
        cmocka_unit_test (test_mask_phone),
        cmocka_unit_test (test_email_good),
        cmocka_unit_test (test_email_bad),
        cmocka_unit_test (test_mask_email),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
