/*  notify_notices.c — the templates, one per notice kind in Chinese (the default) and English,
    and a notice made for one person in their language, zone and quiet hours.  */
#include "notify.h"
#include "st_rows.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

//  {title}, {reason}, {number}, {balance}, {level}, {points}: as the event gave them; {start}, {end},
//  {deadline}: local times of the person's zone; {who}: the people coming, a sentence in the
//  person's language (s_who), or nothing.
typedef struct {
    const char *kind;
    const char *zh;
    const char *en;
} s_template_t;

static const s_template_t s_templates[] = {
    {"offer.made", "派单：「{title}」，{start} 至 {end}，请在 {deadline} 前答复。",
     "New dispatch: \"{title}\", {start} to {end}. Please answer by {deadline}."},
    {"offer.accepted", "你已接单：「{title}」，{start} 至 {end}。",
     "You accepted \"{title}\", {start} to {end}."},
    {"offer.withdrawn", "派单已撤回：「{title}」（{start}）。",
     "The dispatch \"{title}\" ({start}) was withdrawn."},
    {"offer.expired", "派单已过期：「{title}」（{start}），答复期限 {deadline} 已过。",
     "The dispatch \"{title}\" ({start}) expired: the deadline {deadline} passed."},
    {"signup.confirmed", "报名成功：「{title}」，{start} 至 {end}。",
     "You are signed up for \"{title}\", {start} to {end}."},
    {"signup.waitlisted", "已候补：「{title}」（{start}），排第 {number} 位。",
     "You are on the waiting list for \"{title}\" ({start}), number {number}."},
    {"signup.promoted", "候补转正：「{title}」有了名额，{start} 至 {end}。",
     "A place opened: you are signed up for \"{title}\", {start} to {end}."},
    {"signup.cancelled", "已取消报名：「{title}」（{start}）。",
     "Your sign-up for \"{title}\" ({start}) is cancelled."},
    {"signup.skipped",
     "「{title}」（{start}）有名额空出，但你在该时段已有安排，仍候补第 {number} 位。",
     "A place of \"{title}\" ({start}) opened while you are busy then; you stay number {number}."},
    {"activity.cancelled", "活动已取消：「{title}」（原定 {start}）。",
     "The activity \"{title}\" (planned for {start}) is cancelled."},
    {"activity.changed", "活动有变更：「{title}」，现为 {start} 至 {end}。{reason}",
     "The activity \"{title}\" changed: now {start} to {end}. {reason}"},
    {"service.completed", "服务时长已认定：{number} 小时。",
     "Your service hours are confirmed: {number} h."},
    {"invitation.created", "你被邀请加入团队「{title}」，请在应用中答复。",
     "You are invited to join the team \"{title}\"; answer in the app."},
    {"request.submitted", "您的需求「{title}」已收到，正在等待审核。",
     "Your request \"{title}\" was received and waits for review."},
    {"request.published", "您的需求「{title}」已收到，正在为您寻找志愿者。",
     "Your request \"{title}\" was received; we are finding volunteers."},
    {"request.rejected", "您的需求「{title}」未通过审核：{reason}",
     "Your request \"{title}\" was not approved: {reason}"},
    {"request.staffed", "您的需求「{title}」已安排 {number} 名志愿者，{start} 起前来服务。{who}",
     "{number} volunteer(s) will serve your request \"{title}\" from {start}. {who}"},
    {"request.unfilled", "抱歉，您的需求「{title}」暂未找到志愿者：{reason}",
     "Sorry, no volunteer was found for your request \"{title}\": {reason}"},
    {"request.cancelled", "您的需求「{title}」已取消。", "Your request \"{title}\" is cancelled."},
    {"request.completed", "您的需求「{title}」已服务完成，请为本次服务评价。",
     "Your request \"{title}\" was served. Please rate the service."},
    {"reminder.before", "提醒：「{title}」将于 {start} 开始（{end} 结束）。",
     "Reminder: \"{title}\" starts at {start} (ends {end})."},
    {"reminder.after", "「{title}」已于 {end} 结束，你的服务时长将由管理员认定。",
     "\"{title}\" ended at {end}; your hours will be confirmed by an official."},
    {"offer.warning", "派单「{title}」（{start}）尚未答复，答复期限 {deadline}，请尽快答复。",
     "You have not answered the dispatch \"{title}\" ({start}) yet: please answer by {deadline}."},
    {"points.awarded", "积分变动：{number} 分，当前积分 {balance} 分。",
     "Points: {number}; your balance is now {balance}."},
    {"star.reached", "恭喜！你累计服务 {number} 小时，已成为{level}星志愿者。",
     "Congratulations: with {number} hours of service you are now a {level}-star volunteer."},
    {"redemption.reserved",
     "兑换预约成功：「{title}」× {number}，{points} 积分已冻结，领取时扣除。",
     "Reserved: \"{title}\" x {number}; {points} points are held until you collect it."},
    {"redemption.fulfilled", "兑换完成：「{title}」× {number} 已领取，扣除 {points} 积分。",
     "Collected: \"{title}\" x {number}; {points} points spent."},
    {"redemption.cancelled", "兑换已取消：「{title}」× {number}，{points} 积分已退回。",
     "Cancelled: \"{title}\" x {number}; {points} points are back."},
    {"redemption.expired",
     "兑换预约已过期：「{title}」× {number} 未在期限内领取，{points} 积分已退回。",
     "Your reservation of \"{title}\" x {number} expired uncollected; {points} points are back."},
    //  {items}: what waits for an official in their region, only what there is (s_items).
    {"digest.daily", "今日待办：你辖区内有{items}，请及时处理。",
     "Waiting for you in your region today: {items}."},
    //  {title}: the region the volunteer asked to move to (notify knows its code alone).
    {"volunteer.transfer_declined", "你转入 {title} 的转移接续申请未获同意：{reason}",
     "Your request to transfer to region {title} was declined: {reason}"},
};
#define S_TEMPLATE_COUNT (sizeof s_templates / sizeof s_templates[0])

static const s_template_t *
s_template (const char *kind)
{
    for (size_t i = 0; i < S_TEMPLATE_COUNT; i++)
        if (strcmp (s_templates[i].kind, kind) == 0)
            return &s_templates[i];
    return NULL;
}

bool
notify_kind_known (const char *kind)
{
    return s_template (kind) != NULL;
}

const char *
notify_kind_at (size_t i)
{
    return i < S_TEMPLATE_COUNT ? s_templates[i].kind : NULL;
}

const char *
notify_template (const char *kind, bool english)
{
    const s_template_t *template = s_template (kind);
    return !template ? NULL : english ? template->en : template->zh;
}

//  Fills `format` into `out` (size bytes, cut short at a character boundary if too long).
static void
s_render (const char *format, const char *const names[], const char *const values[], size_t count,
          char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = format; *p && n + 1 < size;) {
        bool done = false;
        if (*p == '{')
            for (size_t i = 0; i < count && !done; i++) {
                size_t len = strlen (names[i]);
                if (strncmp (p + 1, names[i], len) == 0 && p[1 + len] == '}') {
                    const char *v = values[i] ? values[i] : "";
                    for (; *v && n + 1 < size; v++)
                        out[n++] = *v;
                    p += len + 2;
                    done = true;
                }
            }
        if (!done)
            out[n++] = *p++;
    }
    //  Never end inside a UTF-8 sequence.
    while (n > 0 && ((unsigned char) out[n - 1] & 0xC0) == 0x80 && n + 1 >= size)
        n--;
    if (n > 0 && ((unsigned char) out[n - 1] & 0xC0) == 0xC0 && n + 1 >= size)
        n--;
    out[n] = 0;
    //  A template ending in an empty {reason} ends in a space: trim it.
    while (n > 0 && out[n - 1] == ' ')
        out[--n] = 0;
}

//  The sentence naming who is coming from `who` (lines "name\tmasked phone", the phone may be
//  empty) in Chinese or English, into `out`; "" when `who` is NULL. Those that do not fit are
//  left out whole (the count in the notice still tells how many come).
static void
s_who (const char *who, bool english, char *out, size_t size)
{
    out[0] = 0;
    if (!who || !*who)
        return;
    size_t n = (size_t) snprintf (out, size, "%s", english ? "Coming: " : "前来服务的志愿者：");
    for (const char *line = who; *line;) {
        const char *end = strchr (line, '\n');
        if (!end)
            end = line + strlen (line);
        const char *tab = memchr (line, '\t', (size_t) (end - line));
        int name_len = (int) ((tab ? tab : end) - line);
        int phone_len = tab ? (int) (end - tab - 1) : 0;
        const char *separator = line == who ? "" : english ? ", " : "、";
        char entry[300];
        int len = phone_len > 0
                      ? snprintf (entry, sizeof entry,
                                  english ? "%s%.*s (phone %.*s)" : "%s%.*s（电话 %.*s）",
                                  separator, name_len, line, phone_len, tab + 1)
                      : snprintf (entry, sizeof entry, "%s%.*s", separator, name_len, line);
        //  Room for the entry and the final full stop (3 bytes in Chinese).
        if (len < 0 || (size_t) len >= sizeof entry || n + (size_t) len + 4 > size)
            break;
        memcpy (out + n, entry, (size_t) len + 1);
        n += (size_t) len;
        line = *end ? end + 1 : end;
    }
    snprintf (out + n, size - n, "%s", english ? "." : "。");
}

//  What waits for an official from `items` ("to_review to_confirm open_checkouts unfilled"),
//  the counts that are not zero in Chinese or English, into `out` ("" when `items` is NULL).
static void
s_items (const char *items, bool english, char *out, size_t size)
{
    out[0] = 0;
    long long counts[4] = {0};
    if (!items
        || sscanf (items, "%lld %lld %lld %lld", &counts[0], &counts[1], &counts[2], &counts[3])
               != 4)
        return;
    static const char *const zh[] = {"待审核的需求 %lld 条", "待确认的服务记录 %lld 条",
                                     "未签退的服务记录 %lld 条", "近一日未能满足的需求 %lld 条"};
    static const char *const one[] = {"1 request to review", "1 service record to confirm",
                                      "1 forgotten check-out",
                                      "1 request left unfilled in the last day"};
    static const char *const many[] = {"%lld requests to review", "%lld service records to confirm",
                                       "%lld forgotten check-outs",
                                       "%lld requests left unfilled in the last day"};
    int total = 0, written = 0;
    for (int i = 0; i < 4; i++)
        total += counts[i] > 0;
    size_t n = 0;
    for (int i = 0; i < 4 && n < size; i++) {
        if (counts[i] <= 0)
            continue;
        const char *separator = written == 0           ? ""
                                : !english             ? "、"
                                : written == total - 1 ? " and "
                                                       : ", ";
        n += (size_t) snprintf (out + n, size - n, "%s", separator);
        if (n < size)
            n += (size_t) snprintf (out + n, size - n,
                                    english ? (counts[i] == 1 ? one[i] : many[i]) : zh[i],
                                    counts[i]);
        written++;
    }
}

st_status_t
notify_notice_add (st_db_t *db, const notify_notice_t *notice, st_error_t *err)
{
    const s_template_t *template = s_template (notice->kind);
    if (!template)
        return st_error_set (err, ST_INTERNAL, NULL, "no template for notice kind \"%s\"",
                             notice->kind);
    st_params_t params = {0};
    st_params_text (&params, notice->recipient_kind);
    st_params_text (&params, notice->recipient_id);
    st_params_text (&params, notice->kind);
    st_params_text (&params, notice->start);
    st_params_text (&params, notice->end);
    st_params_text (&params, notice->deadline);
    st_params_text (&params, notice->region);
    PGresult *res;
    st_status_t rc = st_db_exec (db, "notice_context", &params, &res, err);
    st_params_clear (&params);
    if (rc != ST_OK)
        return rc;
    if (st_row_bool (res, 0, "muted") && !notice->urgent) {
        PQclear (res);
        return ST_OK;
    }
    bool english = strcmp (st_row_text (res, 0, "language"), "en") == 0;
    static const char *const names[] = {"title",   "reason", "number", "start", "end",  "deadline",
                                        "balance", "level",  "points", "who",   "items"};
    char who[1200], items[400];
    s_who (notice->who, english, who, sizeof who);
    s_items (notice->items, english, items, sizeof items);
    const char *values[] = {notice->title,
                            notice->reason,
                            notice->number,
                            st_row_text (res, 0, "t_start"),
                            st_row_text (res, 0, "t_end"),
                            st_row_text (res, 0, "t_deadline"),
                            notice->balance,
                            notice->level,
                            notice->points,
                            who,
                            items};
    char text[2000];
    s_render (english ? template->en : template->zh, names, values, 11, text, sizeof text);
    //  An urgent notice goes through quiet hours.
    const char *hold = notice->urgent || st_row_null (res, 0, "hold_until")
                           ? NULL
                           : st_row_text (res, 0, "hold_until");
    st_params_text (&params, notice->recipient_kind);
    st_params_text (&params, notice->recipient_id);
    st_params_text (&params, notice->kind);
    st_params_text (&params, notice->source);
    st_params_text (&params, notice->subject_id);
    st_params_text (&params, english ? "en" : "zh");
    st_params_text (&params, text);
    st_params_bool (&params, notice->urgent);
    st_params_text (&params, hold);
    //  What the template filled in, for a webhook's receiver (an SMS gateway's template
    //  parameters): the values given, times as the person reads them.
    json_t *filled = json_object ();
    for (size_t i = 0; i < 11; i++)
        if ((i < 6 || i >= 9) && values[i] && *values[i])
            json_object_set_new (filled, names[i], json_string (values[i]));
    char *filled_text = json_dumps (filled, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (filled);
    st_params_text (&params, filled_text);
    rc = st_db_exec (db, "notice_insert", &params, NULL, err);
    st_params_clear (&params);
    free (filled_text);
    PQclear (res);
    return rc;
}
