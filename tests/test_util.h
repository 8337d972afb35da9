/*  test_util.h — small helpers the integration tests share: valid ID numbers, phones, and
    bounded waiting.  */
#ifndef TEST_UTIL_H_INCLUDED
#define TEST_UTIL_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

//  Completes a 17-digit body into a valid GB 11643 ID number (ISO 7064 MOD 11-2).
static inline void
test_id_number (const char *body17, char out[19])
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (body17[i] - '0') * weights[i];
    memcpy (out, body17, 17);
    out[17] = "10X98765432"[sum % 11];
    out[18] = 0;
}

//  The n-th distinct valid ID number of a test run (n < 12,000): born in 1980, the month from
//  n / 1000 and the sequence number from n % 1000.
static inline void
test_nth_id_number (int n, char out[19])
{
    char body[18];
    unsigned k = (unsigned) n;
    snprintf (body, sizeof body, "4310221980%02u15%03u", 1 + (k / 1000) % 12, k % 1000);
    test_id_number (body, out);
}

#endif
