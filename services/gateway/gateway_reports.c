/*  gateway_reports.c — reports (信息报送) and the files counties keep (issue 22): a region's
    figures for a period, a quarter's figures by child region as CSV, and CSV exports of a
    region's volunteers (masked) and service records. Every figure comes from the services'
    own stats and list ops, called with the caller's actor, so that scope answers as each op
    does; the gateway reads no table. The CSV files open in Excel and WPS as written: UTF-8
    with a byte-order mark, a header row in Chinese (st_csv_writer).  */
#include "gateway.h"
#include "st_csv.h"
#include "st_log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_CSV_TYPE     "text/csv; charset=utf-8"
#define S_CHILDREN_MAX 500 //  child regions of one quarterly report
#define S_PAGE         500 //  rows asked of a list op per call
#define S_DAY_SIZE     11  //  YYYY-MM-DD and its NUL

static int64_t s_export_max = 200000;

void
gw_reports_init (const gw_config_t *config)
{
    if (config->export_max > 0)
        s_export_max = config->export_max;
}

//  ---------------------------------------------------------------------------------------
//  Periods: days in Asia/Shanghai, both ends included, as the ledger counts them; match and
//  registry take the same period as [from 00:00, the day after `to` 00:00) +08:00.

typedef struct {
    char from[S_DAY_SIZE], to[S_DAY_SIZE];
    char from_at[40], to_at[40]; //  RFC 3339
} s_period_t;

//  Whether `text` is a day YYYY-MM-DD of the calendar (2000 to 2999); its noon UTC into *t.
static bool
s_day_parse (const char *text, time_t *t)
{
    if (!text || strlen (text) != 10 || text[4] != '-' || text[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit ((unsigned char) text[i]))
            return false;
    int year = atoi (text), month = atoi (text + 5), day = atoi (text + 8);
    struct tm tm = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_hour = 12};
    *t = timegm (&tm);
    struct tm back;
    gmtime_r (t, &back);
    return year >= 2000 && year <= 2999 && back.tm_year == year - 1900 && back.tm_mon == month - 1
           && back.tm_mday == day;
}

static void
s_day_format (time_t t, char out[S_DAY_SIZE])
{
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, S_DAY_SIZE, "%Y-%m-%d", &tm);
}

//  Fills the RFC 3339 ends of a period whose days are set (from <= to, both valid).
static void
s_period_ends (s_period_t *period)
{
    time_t to;
    s_day_parse (period->to, &to);
    char after[S_DAY_SIZE];
    s_day_format (to + 86400, after);
    snprintf (period->from_at, sizeof period->from_at, "%sT00:00:00+08:00", period->from);
    snprintf (period->to_at, sizeof period->to_at, "%sT00:00:00+08:00", after);
}

//  The period of ?from=&to= (days; default this month, Beijing time, to today). Returns 0,
//  or -1 with err naming the field.
static int
s_period (json_t *body, s_period_t *period, st_error_t *err)
{
    const char *from = json_string_value (json_object_get (body, "from"));
    const char *to = json_string_value (json_object_get (body, "to"));
    time_t today = time (NULL) + 8 * 3600, from_t, to_t;
    if (from && !s_day_parse (from, &from_t))
        return st_error_set (err, ST_INVALID_ARGUMENT, "from",
                             "\"from\" must be a day (YYYY-MM-DD), not \"%.40s\"", from),
               -1;
    if (to && !s_day_parse (to, &to_t))
        return st_error_set (err, ST_INVALID_ARGUMENT, "to",
                             "\"to\" must be a day (YYYY-MM-DD), not \"%.40s\"", to),
               -1;
    if (to)
        snprintf (period->to, sizeof period->to, "%s", to);
    else
        s_day_format (today, period->to);
    if (from)
        snprintf (period->from, sizeof period->from, "%s", from);
    else {
        s_day_format (today, period->from);
        memcpy (period->from + 8, "01", 2);
    }
    if (strcmp (period->from, period->to) > 0)
        return st_error_set (err, ST_INVALID_ARGUMENT, to ? "to" : "from",
                             "the period ends (%s) before it starts (%s)", period->to,
                             period->from),
               -1;
    s_period_ends (period);
    return 0;
}

//  The period of ?quarter=2026Q4 (or 2026-Q4). Returns 0, or -1 with err naming the field.
static int
s_quarter (const char *text, s_period_t *period, char name[8], st_error_t *err)
{
    int year = 0, part = 0;
    char rest;
    bool good = text
                && (sscanf (text, "%4d-Q%1d%c", &year, &part, &rest) == 2
                    || sscanf (text, "%4dQ%1d%c", &year, &part, &rest) == 2)
                && isdigit ((unsigned char) text[0]) && year >= 2000 && year <= 2999 && part >= 1
                && part <= 4;
    if (!good)
        return st_error_set (err, ST_INVALID_ARGUMENT, "quarter",
                             "\"quarter\" must be a year's quarter such as 2026Q4 or 2026-Q4"),
               -1;
    static const char *const last[] = {"03-31", "06-30", "09-30", "12-31"};
    snprintf (period->from, sizeof period->from, "%04d-%02d-01", year, 3 * part - 2);
    snprintf (period->to, sizeof period->to, "%04d-%s", year, last[part - 1]);
    snprintf (name, 8, "%04dQ%d", year, part);
    s_period_ends (period);
    return 0;
}

//  The region a report is about: ?region=, or the caller's own. Returns it (borrowed), or
//  NULL with err naming the field.
static const char *
s_region (gw_request_t *request, json_t *body, st_error_t *err)
{
    const char *region = json_string_value (json_object_get (body, "region"));
    const gw_actor_t *actor = gw_request_actor (request);
    if (!region && actor && *actor->region)
        region = actor->region;
    if (!region)
        st_error_set (err, ST_INVALID_ARGUMENT, "region", "\"region\" is required");
    return region;
}

//  ---------------------------------------------------------------------------------------
//  A region's figures over a period, from registry's volunteer.stats, match's stats.region
//  and the ledger's ledger.stats

//  Requests by status, in the order of the columns.
static const char *const s_statuses[] = {"review",   "open",      "matching", "staffed",
                                         "unfilled", "cancelled", "rejected", "completed"};
#define S_STATUSES (sizeof s_statuses / sizeof s_statuses[0])

typedef struct {
    int64_t registered, active, joined; //  volunteers: registered, active, new in the period
    int64_t projects, activities, participated, person_times;
    double hours;
    int64_t requests, by_status[S_STATUSES];
    double fill_rate;
    bool has_fill_rate;
    int64_t issued, spent, expired;
} s_figures_t;

static int64_t
s_int (json_t *reply, const char *name)
{
    return (int64_t) json_integer_value (json_object_get (reply, name));
}

//  Calls `op` of `service` with the caller's actor; the reply, or NULL with err filled.
static json_t *
s_call (gw_request_t *request, const char *service, const char *op, json_t *body, st_error_t *err)
{
    json_t *reply = gw_request_call (request, service, op, body, err);
    json_decref (body);
    return reply;
}

static int
s_figures (gw_request_t *request, const char *region, const s_period_t *period,
           s_figures_t *figures, st_error_t *err)
{
    memset (figures, 0, sizeof *figures);
    json_t *reply = s_call (request, "registry", "volunteer.stats",
                            json_pack ("{s:s, s:s, s:s}", "region", region, "from", period->from_at,
                                       "to", period->to_at),
                            err);
    if (!reply)
        return -1;
    figures->registered = s_int (reply, "registered");
    figures->active = s_int (reply, "active");
    figures->joined = s_int (reply, "new_in_period");
    json_decref (reply);

    reply = s_call (request, "match", "stats.region",
                    json_pack ("{s:s, s:s, s:s}", "region", region, "from", period->from_at, "to",
                               period->to_at),
                    err);
    if (!reply)
        return -1;
    figures->projects = s_int (reply, "projects");
    figures->activities = s_int (reply, "activities");
    figures->participated = s_int (reply, "volunteers");
    figures->person_times = s_int (reply, "person_times");
    figures->hours = json_number_value (json_object_get (reply, "hours"));
    figures->requests = s_int (reply, "requests");
    json_t *fill = json_object_get (reply, "fill_rate");
    figures->has_fill_rate = json_is_number (fill);
    figures->fill_rate = json_number_value (fill);
    size_t i;
    json_t *row;
    json_array_foreach (json_object_get (reply, "requests_by_status"), i, row)
    {
        const char *status = json_string_value (json_object_get (row, "status"));
        for (size_t s = 0; status && s < S_STATUSES; s++)
            if (strcmp (status, s_statuses[s]) == 0)
                figures->by_status[s] = s_int (row, "count");
    }
    json_decref (reply);

    reply = s_call (
        request, "ledger", "ledger.stats",
        json_pack ("{s:s, s:s, s:s}", "region", region, "from", period->from, "to", period->to),
        err);
    if (!reply)
        return -1;
    figures->issued = s_int (reply, "points_issued");
    figures->spent = s_int (reply, "points_spent");
    figures->expired = s_int (reply, "points_expired");
    json_decref (reply);
    return 0;
}

//  Hours as people write them: two decimals at most.
static double
s_hours (double hours)
{
    char text[40];
    snprintf (text, sizeof text, "%.2f", hours);
    return strtod (text, NULL);
}

//  GET /v1/reports/summary?region=&from=&to=
int
gw_report_summary (gw_request_t *request, json_t *body)
{
    st_error_t err;
    s_period_t period;
    s_figures_t f;
    const char *region = s_region (request, body, &err);
    if (!region || s_period (body, &period, &err) || s_figures (request, region, &period, &f, &err))
        return gw_reply_error (request, &err);
    json_t *by_status = json_object ();
    for (size_t s = 0; s < S_STATUSES; s++)
        json_object_set_new (by_status, s_statuses[s], json_integer (f.by_status[s]));
    json_t *answer = json_pack (
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:o, s:o,"
        " s:{s:I, s:I, s:I, s:I}}",
        "region", region, "from", period.from, "to", period.to, "volunteers_registered",
        (json_int_t) f.registered, "volunteers_active", (json_int_t) f.active, "volunteers_new",
        (json_int_t) f.joined, "projects", (json_int_t) f.projects, "activities",
        (json_int_t) f.activities, "volunteers_participated", (json_int_t) f.participated,
        "person_times", (json_int_t) f.person_times, "service_hours", s_hours (f.hours), "requests",
        (json_int_t) f.requests, "requests_by_status", by_status, "fill_rate",
        f.has_fill_rate ? json_real (f.fill_rate) : json_null (), "points", "issued",
        (json_int_t) f.issued, "spent", (json_int_t) f.spent, "expired", (json_int_t) f.expired,
        "balance", (json_int_t) (f.issued - f.spent - f.expired));
    return gw_reply_json (request, 200, answer);
}

//  ---------------------------------------------------------------------------------------
//  GET /v1/reports/quarterly?region=&quarter=2026Q4: one row per child region, then the
//  region's own (合计: its whole subtree, the children's and what sits at the region itself)

//  The columns, in Chinese with their English names (the README lists both).
static const char *const s_quarterly_columns[] = {
    "区划代码",         //  region
    "区划名称",         //  name
    "注册志愿者数",     //  volunteers_registered
    "在册活跃志愿者数", //  volunteers_active
    "本期新增志愿者数", //  volunteers_new
    "项目数",           //  projects
    "活动数",           //  activities
    "参与志愿者数",     //  volunteers_participated
    "服务人次",         //  person_times
    "服务时长(小时)",   //  service_hours
    "需求总数",         //  requests
    "待审核需求",       //  requests_review
    "待派单需求",       //  requests_open
    "派单中需求",       //  requests_matching
    "已派满需求",       //  requests_staffed
    "未满足需求",       //  requests_unfilled
    "已取消需求",       //  requests_cancelled
    "未通过审核需求",   //  requests_rejected
    "已完成需求",       //  requests_completed
    "满足率",           //  fill_rate
    "发放积分",         //  points_issued
    "兑换积分",         //  points_spent
    "过期积分",         //  points_expired
    "积分净增",         //  points_balance
};

static void
s_quarterly_row (st_csv_writer_t *csv, const char *code, const char *name, const s_figures_t *f)
{
    st_csv_write (csv, code);
    st_csv_write (csv, name);
    st_csv_write_int (csv, f->registered);
    st_csv_write_int (csv, f->active);
    st_csv_write_int (csv, f->joined);
    st_csv_write_int (csv, f->projects);
    st_csv_write_int (csv, f->activities);
    st_csv_write_int (csv, f->participated);
    st_csv_write_int (csv, f->person_times);
    st_csv_write_number (csv, s_hours (f->hours));
    st_csv_write_int (csv, f->requests);
    for (size_t s = 0; s < S_STATUSES; s++)
        st_csv_write_int (csv, f->by_status[s]);
    if (f->has_fill_rate)
        st_csv_write_number (csv, s_hours (f->fill_rate * 100) / 100);
    else
        st_csv_write (csv, NULL);
    st_csv_write_int (csv, f->issued);
    st_csv_write_int (csv, f->spent);
    st_csv_write_int (csv, f->expired);
    st_csv_write_int (csv, f->issued - f->spent - f->expired);
    st_csv_write_end (csv);
}

static void
s_header_row (st_csv_writer_t *csv, const char *const *columns, size_t count)
{
    for (size_t i = 0; i < count; i++)
        st_csv_write (csv, columns[i]);
    st_csv_write_end (csv);
}

//  Answers the file the writer holds.
static int
s_reply_csv (gw_request_t *request, st_csv_writer_t **csv_p, const char *filename)
{
    size_t size;
    char *data = st_csv_writer_take (*csv_p, &size);
    st_csv_writer_destroy (csv_p);
    //  The name goes in a header: nothing but letters, digits, dots, dashes and underscores.
    char safe[80];
    snprintf (safe, sizeof safe, "%s", filename);
    for (char *p = safe; *p; p++)
        if (!isalnum ((unsigned char) *p) && !strchr ("._-", *p))
            *p = '_';
    return gw_reply_file (request, S_CSV_TYPE, safe, data, size);
}

int
gw_report_quarterly (gw_request_t *request, json_t *body)
{
    st_error_t err;
    s_period_t period;
    s_figures_t total;
    char quarter[8];
    const char *region = s_region (request, body, &err);
    if (!region
        || s_quarter (json_string_value (json_object_get (body, "quarter")), &period, quarter, &err)
        //  The region's own figures first: a caller out of scope is answered as the ops say
        //  before anything about its children is asked.
        || s_figures (request, region, &period, &total, &err))
        return gw_reply_error (request, &err);
    json_t *tree =
        s_call (request, "registry", "region.get", json_pack ("{s:s}", "code", region), &err);
    if (!tree)
        return gw_reply_error (request, &err);
    json_t *children = json_object_get (tree, "children");
    if (json_array_size (children) > S_CHILDREN_MAX) {
        json_decref (tree);
        st_error_set (&err, ST_FAILED_PRECONDITION, "region",
                      "region \"%s\" has more than %d child regions: report on each of them",
                      region, S_CHILDREN_MAX);
        return gw_reply_error (request, &err);
    }
    st_csv_writer_t *csv = st_csv_writer_new ();
    s_header_row (csv, s_quarterly_columns,
                  sizeof s_quarterly_columns / sizeof s_quarterly_columns[0]);
    size_t i;
    json_t *child;
    json_array_foreach (children, i, child)
    {
        const char *code = json_string_value (json_object_get (child, "code"));
        s_figures_t f;
        if (s_figures (request, code, &period, &f, &err)) {
            json_decref (tree);
            st_csv_writer_destroy (&csv);
            return gw_reply_error (request, &err);
        }
        s_quarterly_row (csv, code, json_string_value (json_object_get (child, "name")), &f);
    }
    char name[80];
    snprintf (name, sizeof name, "%s 合计", json_string_value (json_object_get (tree, "name")));
    s_quarterly_row (csv, region, name, &total);
    json_decref (tree);
    char filename[80];
    snprintf (filename, sizeof filename, "station-report-%s-%s.csv", region, quarter);
    return s_reply_csv (request, &csv, filename);
}

//  ---------------------------------------------------------------------------------------
//  Exports: a list op paged through its cursor until done, at most s_export_max rows

//  Writes one item of a page as a row.
typedef void (s_row_fn) (st_csv_writer_t *csv, json_t *item);

//  Pages through `op` of `service` with `query` (taken; its cursor and limit set here),
//  writing each item with `row` after the header row, and answers the file `filename`; past
//  the cap, a refusal naming `field` (what to narrow).
static int
s_export (gw_request_t *request, const char *service, const char *op, json_t *query,
          const char *const *columns, size_t column_count, s_row_fn *row, const char *filename,
          const char *field)
{
    st_error_t err;
    st_csv_writer_t *csv = st_csv_writer_new ();
    s_header_row (csv, columns, column_count);
    //  A page is at most half the cap too, so that a small cap still pages.
    int64_t page = s_export_max / 2 < S_PAGE ? s_export_max / 2 : S_PAGE;
    json_object_set_new (query, "limit", json_integer (page > 0 ? page : 1));
    for (;;) {
        json_t *page = gw_request_call (request, service, op, query, &err);
        if (!page)
            break;
        size_t i;
        json_t *item;
        json_array_foreach (json_object_get (page, "items"), i, item) row (csv, item);
        const char *next = json_string_value (json_object_get (page, "next_cursor"));
        if (next)
            json_object_set_new (query, "cursor", json_string (next));
        json_decref (page);
        if (st_csv_writer_rows (csv) - 1 > s_export_max) {
            st_error_set (&err, ST_FAILED_PRECONDITION, field, "more than %lld rows to export: %s",
                          (long long) s_export_max,
                          strcmp (field, "region") == 0
                              ? "export a smaller region or period"
                              : "the gateway's cap (STATION_GATEWAY_EXPORT_MAX) is lower");
            break;
        }
        if (!next) {
            json_decref (query);
            return s_reply_csv (request, &csv, filename);
        }
    }
    json_decref (query);
    st_csv_writer_destroy (&csv);
    return gw_reply_error (request, &err);
}

static const char *
s_text (json_t *item, const char *name)
{
    return json_string_value (json_object_get (item, name));
}

//  A list of texts as one cell: 急救、助老.
static void
s_write_list (st_csv_writer_t *csv, json_t *list)
{
    size_t size = 1, i;
    json_t *entry;
    json_array_foreach (list, i, entry) size +=
        strlen (json_string_value (entry) ? json_string_value (entry) : "") + 3;
    char *text = st_calloc (1, size);
    json_array_foreach (list, i, entry)
    {
        if (i)
            strcat (text, "、");
        strcat (text, json_string_value (entry) ? json_string_value (entry) : "");
    }
    st_csv_write (csv, text);
    free (text);
}

//  GET /v1/exports/volunteers?region=&status=: volunteer.list's masked fields.
static const char *const s_volunteer_columns[] = {
    "志愿者编号",     //  id
    "姓名",           //  name
    "性别",           //  gender (M, F)
    "出生年代",       //  birth_decade
    "身份证号(脱敏)", //  id_number, masked
    "手机号(脱敏)",   //  phone, masked
    "电子邮箱(脱敏)", //  email, masked
    "区划代码",       //  region
    "技能",           //  skills
    "服务类别",       //  categories
    "党员",           //  party_member (是, 否)
    "保险有效期至",   //  insurance_until
    "状态",           //  status (active, suspended, left)
    "注册时间",       //  created_at
};

static void
s_volunteer_row (st_csv_writer_t *csv, json_t *item)
{
    st_csv_write (csv, s_text (item, "id"));
    st_csv_write (csv, s_text (item, "name"));
    const char *gender = s_text (item, "gender");
    st_csv_write (csv, !gender ? NULL : strcmp (gender, "F") == 0 ? "女" : "男");
    st_csv_write (csv, s_text (item, "birth_decade"));
    st_csv_write (csv, s_text (item, "id_number"));
    st_csv_write (csv, s_text (item, "phone"));
    st_csv_write (csv, s_text (item, "email"));
    st_csv_write (csv, s_text (item, "region"));
    s_write_list (csv, json_object_get (item, "skills"));
    s_write_list (csv, json_object_get (item, "categories"));
    json_t *party = json_object_get (item, "party_member");
    st_csv_write (csv, json_is_boolean (party) ? (json_is_true (party) ? "是" : "否") : NULL);
    st_csv_write (csv, s_text (item, "insurance_until"));
    st_csv_write (csv, s_text (item, "status"));
    st_csv_write (csv, s_text (item, "created_at"));
    st_csv_write_end (csv);
}

int
gw_export_volunteers (gw_request_t *request, json_t *body)
{
    st_error_t err;
    const char *region = s_region (request, body, &err);
    if (!region)
        return gw_reply_error (request, &err);
    json_t *query = json_pack ("{s:s}", "region", region);
    const char *status = s_text (body, "status");
    if (status)
        json_object_set_new (query, "status", json_string (status));
    char filename[80];
    snprintf (filename, sizeof filename, "station-volunteers-%.15s.csv", region);
    return s_export (request, "registry", "volunteer.list", query, s_volunteer_columns,
                     sizeof s_volunteer_columns / sizeof s_volunteer_columns[0], s_volunteer_row,
                     filename, "region");
}

//  GET /v1/exports/service-records?region=&from=&to=: match's record.list by region, the
//  records checked in from day `from` to day `to` (both included, Beijing time; either open
//  when absent).
static const char *const s_record_columns[] = {
    "记录编号",       //  id
    "志愿者编号",     //  volunteer_id
    "活动编号",       //  activity_id
    "需求编号",       //  request_id
    "区划代码",       //  region
    "签到时间",       //  checkin_at
    "签退时间",       //  checkout_at
    "计时(分钟)",     //  minutes
    "认定时长(小时)", //  hours
    "状态",           //  status (open, closed, confirmed)
    "认定人",         //  confirmed_by
    "补签退人",       //  completed_by
    "补签退原因",     //  completion_reason
};

//  The whole number `key` of `item` as a cell, empty when absent.
static void
s_write_int (st_csv_writer_t *csv, json_t *item, const char *key)
{
    json_t *number = json_object_get (item, key);
    if (json_is_integer (number))
        st_csv_write_int (csv, (int64_t) json_integer_value (number));
    else
        st_csv_write (csv, NULL);
}

//  The `hours` of `item` as a cell (two decimals), empty when absent.
static void
s_write_hours (st_csv_writer_t *csv, json_t *item)
{
    json_t *hours = json_object_get (item, "hours");
    if (json_is_number (hours))
        st_csv_write_number (csv, s_hours (json_number_value (hours)));
    else
        st_csv_write (csv, NULL);
}

static void
s_record_row (st_csv_writer_t *csv, json_t *item)
{
    st_csv_write (csv, s_text (item, "id"));
    st_csv_write (csv, s_text (item, "volunteer_id"));
    st_csv_write (csv, s_text (item, "activity_id"));
    st_csv_write (csv, s_text (item, "request_id"));
    st_csv_write (csv, s_text (item, "region"));
    st_csv_write (csv, s_text (item, "checkin_at"));
    st_csv_write (csv, s_text (item, "checkout_at"));
    s_write_int (csv, item, "minutes");
    s_write_hours (csv, item);
    st_csv_write (csv, s_text (item, "status"));
    st_csv_write (csv, s_text (item, "confirmed_by"));
    st_csv_write (csv, s_text (item, "completed_by"));
    st_csv_write (csv, s_text (item, "completion_reason"));
    st_csv_write_end (csv);
}

int
gw_export_records (gw_request_t *request, json_t *body)
{
    st_error_t err;
    const char *region = s_region (request, body, &err);
    if (!region)
        return gw_reply_error (request, &err);
    const char *from = s_text (body, "from"), *to = s_text (body, "to");
    time_t from_t = 0, to_t = 0;
    if (from && !s_day_parse (from, &from_t)) {
        st_error_set (&err, ST_INVALID_ARGUMENT, "from",
                      "\"from\" must be a day (YYYY-MM-DD), not \"%.40s\"", from);
        return gw_reply_error (request, &err);
    }
    if (to && !s_day_parse (to, &to_t)) {
        st_error_set (&err, ST_INVALID_ARGUMENT, "to",
                      "\"to\" must be a day (YYYY-MM-DD), not \"%.40s\"", to);
        return gw_reply_error (request, &err);
    }
    if (from && to && from_t > to_t) {
        st_error_set (&err, ST_INVALID_ARGUMENT, "to", "the period ends (%s) before it starts (%s)",
                      to, from);
        return gw_reply_error (request, &err);
    }
    json_t *query = json_pack ("{s:s}", "region", region);
    char at[40], day[S_DAY_SIZE];
    if (from) {
        snprintf (at, sizeof at, "%sT00:00:00+08:00", from);
        json_object_set_new (query, "from", json_string (at));
    }
    if (to) {
        s_day_format (to_t + 86400, day);
        snprintf (at, sizeof at, "%sT00:00:00+08:00", day);
        json_object_set_new (query, "to", json_string (at));
    }
    char filename[80];
    snprintf (filename, sizeof filename, "station-service-records-%.15s%s%.10s%s%.10s.csv", region,
              from || to ? "-" : "", from ? from : "", from || to ? "-" : "", to ? to : "");
    return s_export (request, "match", "record.list", query, s_record_columns,
                     sizeof s_record_columns / sizeof s_record_columns[0], s_record_row, filename,
                     "region");
}

//  GET /v1/exports/activities/{activity_id}: the activity's roster (match's activity.roster):
//  each sign-up with the volunteer's name masked, where they stand, their check-in and
//  check-out and the hours.
static const char *const s_roster_columns[] = {
    "志愿者编号",     //  volunteer_id
    "姓名(脱敏)",     //  name, masked
    "报名状态",       //  status (confirmed, waitlisted, none)
    "候补顺位",       //  position
    "报名时间",       //  signed_up_at
    "签到时间",       //  checkin_at
    "签退时间",       //  checkout_at
    "计时(分钟)",     //  minutes
    "认定时长(小时)", //  hours
    "记录状态",       //  record_status (open, closed, confirmed)
    "补录",           //  manual (是, 否)
};

static void
s_roster_row (st_csv_writer_t *csv, json_t *item)
{
    st_csv_write (csv, s_text (item, "volunteer_id"));
    st_csv_write (csv, s_text (item, "name"));
    st_csv_write (csv, s_text (item, "status"));
    s_write_int (csv, item, "position");
    st_csv_write (csv, s_text (item, "signed_up_at"));
    st_csv_write (csv, s_text (item, "checkin_at"));
    st_csv_write (csv, s_text (item, "checkout_at"));
    s_write_int (csv, item, "minutes");
    s_write_hours (csv, item);
    st_csv_write (csv, s_text (item, "record_status"));
    json_t *manual = json_object_get (item, "manual");
    st_csv_write (csv, json_is_boolean (manual) ? (json_is_true (manual) ? "是" : "否") : NULL);
    st_csv_write_end (csv);
}

int
gw_export_roster (gw_request_t *request, json_t *body)
{
    const char *id = s_text (body, "activity_id");
    size_t length = id ? strlen (id) : 0;
    bool digits = length > 0 && length <= 20;
    for (size_t i = 0; digits && i < length; i++)
        digits = isdigit ((unsigned char) id[i]);
    if (!digits) {
        st_error_t err;
        st_error_set (&err, ST_INVALID_ARGUMENT, "activity_id",
                      "\"activity_id\" must be an activity's number, not \"%.40s\"", id ? id : "");
        return gw_reply_error (request, &err);
    }
    json_t *query = json_pack ("{s:s}", "activity_id", id);
    char filename[80];
    snprintf (filename, sizeof filename, "station-activity-%s-roster.csv", id);
    return s_export (request, "match", "activity.roster", query, s_roster_columns,
                     sizeof s_roster_columns / sizeof s_roster_columns[0], s_roster_row, filename,
                     "activity_id");
}

//  ---------------------------------------------------------------------------------------
//  The OpenAPI document's word on these answers: the summary's fields, and CSV files

json_t *
gw_reports_openapi (const gw_route_t *route)
{
    if (route->map == gw_report_quarterly || route->map == gw_export_volunteers
        || route->map == gw_export_records || route->map == gw_export_roster)
        return json_pack ("{s:{s:{s:s, s:s}}}", "text/csv; charset=utf-8", "schema", "type",
                          "string", "description",
                          "UTF-8 with a byte-order mark, CRLF, a header row in Chinese");
    if (route->map != gw_report_summary)
        return NULL;
    static const char *const integers[] = {
        "volunteers_registered",   "volunteers_active", "volunteers_new", "projects", "activities",
        "volunteers_participated", "person_times",      "requests"};
    json_t *properties = json_pack (
        "{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:[s, s]}, s:{s:s, s:{s:s}},"
        " s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}}",
        "region", "type", "string", "from", "type", "string", "to", "type", "string",
        "service_hours", "type", "number", "fill_rate", "type", "number", "null",
        "requests_by_status", "type", "object", "additionalProperties", "type", "integer", "points",
        "type", "object", "properties", "issued", "type", "integer", "spent", "type", "integer",
        "expired", "type", "integer", "balance", "type", "integer");
    for (size_t i = 0; i < sizeof integers / sizeof integers[0]; i++)
        json_object_set_new (properties, integers[i], json_pack ("{s:s}", "type", "integer"));
    return json_pack ("{s:{s:{s:s, s:o}}}", "application/json", "schema", "type", "object",
                      "properties", properties);
}
