/*  transfer_requests_test.c — transfer requests (转移接续, issue 22) as their own things: a
    volunteer asks (transfer.request, volunteer.request_transfer), the destination's officials
    list them (transfer.list) and decline them with a reason the volunteer is told (transfer.decline,
    event volunteer.transfer_declined), or accept them with volunteer.transfer, which closes the
    request; scope, roles and bad input refused naming the field, changing nothing.  */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define TOWN_100 "431022100000"
#define TOWN_101 "431022101000"
#define VILLAGE  "431022100201"
#define FAR      "431022101203"

static char s_v[32], s_w[32];

static int
s_setup (void **state)
{
    fx_t *fx = fx_new ("transfer_requests", FX_REGISTRY);
    fx_county_add ();
    fx_volunteer_add ("李转移", VILLAGE, "[]", "[]", 25.4, 112.9, "", s_v);
    fx_volunteer_add ("赵留下", VILLAGE, "[]", "[]", 25.4, 112.9, "", s_w);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_destroy ((fx_t **) state);
    return 0;
}

//  The transfer requests `actor` lists with `body`; the items (the caller decrefs).
static json_t *
s_list (const msg_actor_t *actor, const char *body)
{
    json_t *page = fx_call_ok ("registry", actor, "transfer.list", body);
    json_t *items = json_incref (json_object_get (page, "items"));
    json_decref (page);
    return items;
}

static char *
s_digest (void)
{
    return strdup (fx_value ("SELECT coalesce (string_agg (id || status || region || coalesce"
                             " (decline_reason, ''), ',' ORDER BY id), '') || (SELECT count (*)"
                             " FROM registry.outbox) FROM registry.transfer_requests"));
}

static void
test_ask_list_decline (void **state)
{
    msg_actor_t v = fx_volunteer (s_v), w = fx_volunteer (s_w);
    msg_actor_t far_admin = fx_admin ("region_admin", TOWN_101);
    msg_actor_t near_admin = fx_admin ("station_admin", TOWN_100);
    st_error_t err;
    json_t *reply;

    //  Bad asks, each changing nothing.
    char *before = s_digest ();
    fx_expect (
        "a bad region",
        fx_call ("registry", &v, "transfer.request", "{\"to_region\": \"4310\"}", NULL, &err), &err,
        ST_INVALID_ARGUMENT, "to_region");
    fx_expect ("an unknown region",
               fx_call ("registry", &v, "transfer.request", "{\"to_region\": \"431022109000\"}",
                        NULL, &err),
               &err, ST_FAILED_PRECONDITION, "to_region");
    fx_expect ("the region they are in",
               fx_call ("registry", &v, "transfer.request", "{\"to_region\": \"" VILLAGE "\"}",
                        NULL, &err),
               &err, ST_FAILED_PRECONDITION, "to_region");
    assert_int_equal (fx_call ("registry", &far_admin, "transfer.request",
                               "{\"to_region\": \"" FAR "\"}", NULL, &err),
                      ST_PERMISSION_DENIED);
    fx_unchanged (before, s_digest (), "refused asks");

    json_t *asked = fx_call_ok ("registry", &v, "transfer.request",
                                "{\"to_region\": \"" FAR "\", \"reason\": \"随子女迁居\"}");
    assert_string_equal (fx_str (asked, "status"), "pending");
    char id[32];
    snprintf (id, sizeof id, "%s", fx_str (asked, "id"));
    json_decref (asked);

    //  The destination's official sees it, with who asks; the official of where they are now
    //  does not, and may not look at the destination.
    json_t *items = s_list (&far_admin, "{}");
    assert_int_equal (json_array_size (items), 1);
    json_t *item = json_array_get (items, 0);
    assert_string_equal (fx_str (item, "id"), id);
    assert_string_equal (fx_str (item, "to_region"), FAR);
    assert_string_equal (fx_str (item, "reason"), "随子女迁居");
    assert_string_equal (fx_str (item, "status"), "pending");
    assert_true (*fx_str (item, "at"));
    json_t *who = json_object_get (item, "volunteer");
    assert_string_equal (fx_str (who, "id"), s_v);
    assert_string_equal (fx_str (who, "name"), "李转移");
    assert_string_equal (fx_str (who, "region"), VILLAGE);
    json_decref (items);
    items = s_list (&near_admin, "{}");
    assert_int_equal (json_array_size (items), 0);
    json_decref (items);
    fx_expect ("another branch's list",
               fx_call ("registry", &near_admin, "transfer.list", "{\"region\": \"" TOWN_101 "\"}",
                        NULL, &err),
               &err, ST_PERMISSION_DENIED, "region");
    fx_expect (
        "a bad status",
        fx_call ("registry", &far_admin, "transfer.list", "{\"status\": \"maybe\"}", NULL, &err),
        &err, ST_INVALID_ARGUMENT, "status");
    fx_expect ("a bad cursor",
               fx_call ("registry", &far_admin, "transfer.list", "{\"cursor\": \"x\"}", NULL, &err),
               &err, ST_INVALID_ARGUMENT, "cursor");
    //  Another volunteer sees none of it; the one who asked sees their own.
    items = s_list (&w, "{}");
    assert_int_equal (json_array_size (items), 0);
    json_decref (items);
    items = s_list (&v, "{}");
    assert_int_equal (json_array_size (items), 1);
    json_decref (items);

    //  Declines that may not be, changing nothing: out of scope reads as not found.
    char body[256];
    before = s_digest ();
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"reason\": \"不在本镇\"}", id);
    fx_expect ("a decline out of scope",
               fx_call ("registry", &near_admin, "transfer.decline", body, NULL, &err), &err,
               ST_NOT_FOUND, "id");
    assert_int_equal (fx_call ("registry", &v, "transfer.decline", body, NULL, &err),
                      ST_PERMISSION_DENIED);
    fx_expect ("no such request",
               fx_call ("registry", &far_admin, "transfer.decline",
                        "{\"id\": \"999999\", \"reason\": \"不在本镇\"}", NULL, &err),
               &err, ST_NOT_FOUND, "id");
    snprintf (body, sizeof body, "{\"id\": \"%s\"}", id);
    fx_expect ("a decline without a reason",
               fx_call ("registry", &far_admin, "transfer.decline", body, NULL, &err), &err,
               ST_INVALID_ARGUMENT, "reason");
    fx_unchanged (before, s_digest (), "refused declines");

    snprintf (body, sizeof body, "{\"id\": \"%s\", \"reason\": \"本村暂无对应服务队\"}", id);
    reply = fx_call_ok ("registry", &far_admin, "transfer.decline", body);
    assert_string_equal (fx_str (reply, "status"), "declined");
    assert_string_equal (fx_str (reply, "decline_reason"), "本村暂无对应服务队");
    assert_true (*fx_str (reply, "decided_at"));
    json_decref (reply);
    json_t *event = NULL;
    assert_int_equal (fx_events_json ("volunteer.transfer_declined", id, &event), 1);
    assert_string_equal (fx_str (event, "volunteer_id"), s_v);
    assert_string_equal (fx_str (event, "to_region"), FAR);
    assert_string_equal (fx_str (event, "from_region"), VILLAGE);
    assert_string_equal (fx_str (event, "reason"), "本村暂无对应服务队");
    json_decref (event);
    fx_expect ("a second decline",
               fx_call ("registry", &far_admin, "transfer.decline", body, NULL, &err), &err,
               ST_CONFLICT, "id");
    items = s_list (&far_admin, "{}");
    assert_int_equal (json_array_size (items), 0);
    json_decref (items);
    items = s_list (&v, "{\"status\": \"declined\"}");
    assert_int_equal (json_array_size (items), 1);
    json_decref (items);
    //  A declined request is no consent: the transfer is refused.
    snprintf (body, sizeof body, "{\"id\": \"%s\", \"region\": \"" FAR "\"}", s_v);
    fx_expect ("a transfer after the decline",
               fx_call ("registry", &far_admin, "volunteer.transfer", body, NULL, &err), &err,
               ST_FAILED_PRECONDITION, "id");
}

//  volunteer.transfer carries out the pending request and closes it (accepted); asking again
//  replaces a pending request.
static void
test_transfer_closes_the_request (void **state)
{
    msg_actor_t w = fx_volunteer (s_w);
    msg_actor_t far_admin = fx_admin ("region_admin", TOWN_101);
    char body[256];
    json_decref (fx_call_ok ("registry", &w, "transfer.request",
                             "{\"to_region\": \"431022101000\", \"reason\": \"先问镇里\"}"));
    snprintf (body, sizeof body,
              "{\"id\": \"%s\", \"region\": \"" FAR "\", \"reason\": \"搬到村里\"}", s_w);
    json_decref (fx_call_ok ("registry", &w, "volunteer.request_transfer", body));
    json_t *items = s_list (&far_admin, "{}");
    if (json_array_size (items) != 1)
        fail_msg ("pending: %s; table: %s", json_dumps (items, 0),
                  fx_value ("SELECT string_agg (r::text, ' ') FROM registry.transfer_requests r"));
    assert_string_equal (fx_str (json_array_get (items, 0), "to_region"), FAR);
    assert_string_equal (fx_str (json_array_get (items, 0), "reason"), "搬到村里");
    json_decref (items);

    snprintf (body, sizeof body, "{\"id\": \"%s\", \"region\": \"" FAR "\"}", s_w);
    json_t *moved = fx_call_ok ("registry", &far_admin, "volunteer.transfer", body);
    assert_string_equal (fx_str (moved, "region"), FAR);
    json_decref (moved);
    items = s_list (&far_admin, "{}");
    assert_int_equal (json_array_size (items), 0);
    json_decref (items);
    items = s_list (&far_admin, "{\"status\": \"accepted\", \"limit\": 1}");
    assert_int_equal (json_array_size (items), 1);
    assert_string_equal (fx_str (json_object_get (json_array_get (items, 0), "volunteer"), "id"),
                         s_w);
    json_decref (items);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ask_list_decline),
        cmocka_unit_test (test_transfer_closes_the_request),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
