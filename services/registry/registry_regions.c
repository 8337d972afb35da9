/*  registry_regions.c — what people and services hang on: regions (a 12-digit statistical
    code, its level and parent following from it), service categories, practice sites, and
    volunteer teams with their members. Officials add them inside their region subtree.  */
#include "registry.h"
#include "registry_util.h"
#include "st_checks.h"
#include "st_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ST_REGISTRY_REGIONS_OPS (ST_ROUTE_THUNK)

const st_route_t registry_regions_routes[] = {ST_REGISTRY_REGIONS_OPS (ST_ROUTE_ROW)};
const size_t registry_regions_route_count =
    sizeof registry_regions_routes / sizeof registry_regions_routes[0];

//  ---------------------------------------------------------------------------------------
//  region.create and region.get

int
registry_region_exists (st_call_t *call, const char *code, bool *exists)
{
    PGresult *res;
    if (registry_exec_text (call, "region_exists", code, &res))
        return -1;
    *exists = PQntuples (res) > 0;
    PQclear (res);
    return 0;
}

int
registry_require_region_exists (st_call_t *call, const char *field, const char *code)
{
    bool exists;
    if (registry_region_exists (call, code, &exists))
        return -1;
    if (!exists)
        return st_call_fail (call, ST_FAILED_PRECONDITION, field, "no region has code \"%s\"",
                             code);
    return 0;
}

int
registry_region_row (st_call_t *call, const char *code, const char *name,
                     char parent[ST_REGION_SIZE], st_params_t *params)
{
    int level = st_region_level (code);
    bool has_parent = st_region_parent (code, parent);
    if (has_parent && registry_region_exists (call, parent, &has_parent))
        return -1;
    //  A city may stand alone: provinces are often not kept.
    if (!has_parent && level > 1)
        return 1;
    st_params_text (params, code);
    st_params_text (params, name);
    st_params_text (params, st_region_level_name (level));
    st_params_text (params, has_parent ? parent : NULL);
    return 0;
}

static int
s_region_children (st_call_t *call, const char *code, msg_region_t *reply)
{
    PGresult *res;
    if (registry_exec_text (call, "region_children", code, &res))
        return -1;
    st_rows_to_list (res, &msg_region_child_desc, (st_list_t *) &reply->children,
                     &reply->has_children);
    PQclear (res);
    return 0;
}

static void
s_region_create (st_call_t *call, const msg_region_create_t *request, msg_region_t *reply)
{
    if (st_require_code (call, "code", request->code))
        return;
    char parent[ST_REGION_SIZE];
    bool has_parent = st_region_parent (request->code, parent);
    //  Only the admin of the parent region (or the system) adds a region under it.
    if (registry_require_official_in_scope (call, has_parent ? parent : request->code)
        || registry_require_region_admin (call, st_call_actor (call),
                                          "only a region admin may add regions"))
        return;
    st_params_t params = {0};
    int rc = registry_region_row (call, request->code, request->name, parent, &params);
    if (rc > 0)
        st_call_fail (call, ST_FAILED_PRECONDITION, "code",
                      "parent region \"%s\" does not exist yet", parent);
    if (rc)
        return;
    PGresult *res;
    if (registry_exec_unique (call, "region_insert", &params, &res, "code",
                              "region \"%s\" exists already", request->code))
        return;
    st_row_to_msg (res, 0, &msg_region_desc, reply);
    PQclear (res);
    reply->has_children = true;
}

static void
s_region_get (st_call_t *call, const msg_region_get_t *request, msg_region_t *reply)
{
    if (st_require_code (call, "code", request->code))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->code);
    PGresult *res;
    if (registry_exec_found (call, "region_get", &params, &res, "code", "no region has code \"%s\"",
                             request->code))
        return;
    st_row_to_msg (res, 0, &msg_region_desc, reply);
    PQclear (res);
    s_region_children (call, request->code, reply);
}

//  ---------------------------------------------------------------------------------------
//  category.list and category.create — service categories are data

int
registry_require_categories (st_call_t *call, const char *field, const st_strs_t *list,
                             const char *region)
{
    if (list->count == 0)
        return 0;
    st_params_t params = {0};
    st_params_text_array (&params, list->items, list->count);
    PGresult *res;
    if (st_call_exec (call, "categories_known", &params, &res))
        return -1;
    size_t known = (size_t) atol (PQgetvalue (res, 0, 0));
    PQclear (res);
    //  Duplicates count once in the query: compare with the distinct codes given.
    size_t distinct = 0;
    for (size_t i = 0; i < list->count; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp (list->items[i], list->items[j]) == 0;
        distinct += !seen;
    }
    if (known != distinct)
        return st_call_fail (call, ST_INVALID_ARGUMENT, field,
                             "\"%s\" holds a code that is no service category (see category.list)",
                             field);
    if (!region)
        return 0;
    //  A region's own category serves its subtree: not another branch of the tree.
    st_params_text_array (&params, list->items, list->count);
    if (st_call_exec (call, "categories_local", &params, &res))
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples (res); i++)
        rc = st_require_reference (call, st_call_actor (call), field, PQgetvalue (res, i, 1),
                                   region);
    PQclear (res);
    return rc;
}

static void
s_category_list (st_call_t *call, const msg_category_list_t *request, msg_categories_t *reply)
{
    if (request->region && st_require_code (call, "region", request->region))
        return;
    PGresult *res;
    if (registry_exec_text (call, "category_list", request->region, &res))
        return;
    st_rows_to_list (res, &msg_category_desc, (st_list_t *) &reply->items, &reply->has_items);
    PQclear (res);
}

static void
s_category_create (st_call_t *call, const msg_category_t *request, msg_category_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return;
    //  A region admin's category belongs to its region; the system's are national.
    const char *region = st_actor_is_system (actor) ? request->region : actor->region;
    if (registry_require_region_admin (call, actor, "only a region admin adds categories")
        || (region && st_require_code (call, "region", region)))
        return;
    for (const char *p = request->code; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
            || (p == request->code && !(*p >= 'a' && *p <= 'z'))) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "code",
                          "\"code\" must start with a-z and hold only a-z, 0-9 and \"_\"");
            return;
        }
    st_params_t params = {0};
    st_params_text (&params, request->code);
    st_params_text (&params, request->name);
    st_params_text (&params, region);
    PGresult *res;
    if (registry_exec_unique (call, "category_insert", &params, &res, "code",
                              "category \"%s\" exists already", request->code))
        return;
    st_row_to_msg (res, 0, &msg_category_desc, reply);
    PQclear (res);
    //  match checks a local category's region against what names it.
    st_call_emit (call, "category.created", &msg_category_desc, reply);
}

//  ---------------------------------------------------------------------------------------
//  site.create and site.get — practice sites hang on regions

static const char *const s_site_kinds[] = {"centre", "institute", "station", "point", NULL};

static void
s_site_create (st_call_t *call, const msg_site_create_t *request, msg_site_t *reply)
{
    if (st_require_one_of (call, "kind", request->kind, s_site_kinds))
        return;
    if (st_require_code (call, "region", request->region)
        || registry_require_official_in_scope (call, request->region))
        return;
    const msg_actor_t *actor = st_call_actor (call);
    if (strcmp (actor->role, "team_leader") == 0) {
        st_call_fail (call, ST_PERMISSION_DENIED, NULL, "team leaders do not add sites");
        return;
    }
    if (registry_require_region_exists (call, "region", request->region))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->name);
    st_params_text (&params, request->kind);
    st_params_text (&params, request->region);
    st_params_text (&params, request->address);
    st_params_double_or_null (&params, request->has_lat, request->lat);
    st_params_double_or_null (&params, request->has_lon, request->lon);
    st_params_text (&params, request->opening_hours);
    PGresult *res;
    if (st_call_exec (call, "site_insert", &params, &res))
        return;
    st_row_to_msg (res, 0, &msg_site_desc, reply);
    PQclear (res);
    //  match checks the sites activities name against where they are.
    msg_site_created_t event = {.id = reply->id, .region = reply->region};
    st_call_emit (call, "site.created", &msg_site_created_desc, &event);
}

static void
s_site_get (st_call_t *call, const msg_site_get_t *request, msg_site_t *reply)
{
    int64_t id;
    PGresult *res;
    if (registry_row_by_id (call, "site_get", "site", request->id, &id, &res))
        return;
    st_row_to_msg (res, 0, &msg_site_desc, reply);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  team.create, team.get, team.add_member, team.remove_member

static const char *const s_team_levels[] = {"demonstration", "brigade", "detachment",
                                            "squad",         "unit",    NULL};
static const char *const s_member_roles[] = {"member", "leader", "info_officer", NULL};

int
registry_load_team (st_call_t *call, const char *statement, const char *id_text, msg_team_t *reply)
{
    int64_t id;
    PGresult *res;
    if (registry_row_by_id (call, statement, "team", id_text, &id, &res))
        return -1;
    st_row_to_msg (res, 0, &msg_team_desc, reply);
    PQclear (res);
    st_params_t params = {0};
    st_params_int (&params, id);
    if (st_call_exec (call, "team_members", &params, &res))
        return -1;
    st_rows_to_list (res, &msg_member_desc, (st_list_t *) &reply->members, &reply->has_members);
    PQclear (res);
    return 0;
}

//  The region of row `id_text` of `statement` (site_get, team_get), named by `field`, into
//  `region`: not found naming `field` when there is no such row.
static int
s_referenced_region (st_call_t *call, const char *statement, const char *what, const char *field,
                     const char *id_text, char region[ST_REGION_SIZE])
{
    int64_t id;
    if (st_require_id (call, field, what, id_text, &id))
        return -1;
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (registry_exec_found (call, statement, &params, &res, field, "no %s has id \"%s\"", what,
                             id_text))
        return -1;
    snprintf (region, ST_REGION_SIZE, "%s", st_row_text (res, 0, "region"));
    PQclear (res);
    return 0;
}

static void
s_team_create (st_call_t *call, const msg_team_create_t *request, msg_team_t *reply)
{
    if (st_require_one_of (call, "level", request->level, s_team_levels))
        return;
    char *category[] = {request->category};
    st_strs_t categories = {category, 1};
    if (st_require_code (call, "region", request->region)
        || registry_require_official_in_scope (call, request->region)
        || registry_require_categories (call, "category", &categories, request->region)
        || registry_require_region_exists (call, "region", request->region))
        return;
    //  The site and the parent team must be the actor's to use: in their scope, or above the
    //  team's region (a county's brigade heads a township's detachment).
    const msg_actor_t *actor = st_call_actor (call);
    char site_region[ST_REGION_SIZE], parent_region[ST_REGION_SIZE];
    if ((request->site_id
         && (s_referenced_region (call, "site_get", "site", "site_id", request->site_id,
                                  site_region)
             || st_require_reference (call, actor, "site_id", site_region, request->region)))
        || (request->parent_id
            && (s_referenced_region (call, "team_get", "team", "parent_id", request->parent_id,
                                     parent_region)
                || st_require_reference (call, actor, "parent_id", parent_region,
                                         request->region))))
        return;
    st_params_t params = {0};
    st_params_text (&params, request->name);
    st_params_text (&params, request->level);
    st_params_text (&params, request->category);
    st_params_text (&params, request->region);
    st_params_text (&params, request->site_id);
    st_params_text (&params, request->parent_id);
    PGresult *res;
    if (st_call_exec (call, "team_insert", &params, &res)) {
        if (st_call_code (call) == ST_FAILED_PRECONDITION)
            st_call_fail (call, ST_NOT_FOUND, request->site_id ? "site_id" : "parent_id",
                          "the site or parent team does not exist");
        return;
    }
    char id[24];
    snprintf (id, sizeof id, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    if (registry_load_team (call, "team_get", id, reply))
        return;
    msg_team_created_t event = {.id = reply->id,
                                .name = reply->name,
                                .level = reply->level,
                                .category = reply->category,
                                .region = reply->region};
    st_call_emit (call, "team.created", &msg_team_created_desc, &event);
}

//  Replaces *name by its first character (UTF-8) and a * for each character after it.
static void
s_mask_name (char **name)
{
    const unsigned char *text = (const unsigned char *) *name;
    size_t first = 1, chars = 0;
    while (text[0] && (text[first] & 0xC0) == 0x80)
        first++;
    for (const unsigned char *p = text; *p; p++)
        chars += (*p & 0xC0) != 0x80;
    size_t stars = chars > 1 ? chars - 1 : 1;
    char *masked = malloc (first + stars + 1);
    if (!masked)
        return;
    memcpy (masked, text, first);
    memset (masked + first, '*', stars);
    masked[first + stars] = '\0';
    free (*name);
    *name = masked;
}

static void
s_team_get (st_call_t *call, const msg_team_get_t *request, msg_team_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor)
        || registry_load_team (call, "team_get", request->id, reply))
        return;
    bool member = false;
    for (size_t i = 0; i < reply->members.count && actor->volunteer_id; i++)
        member = member || strcmp (reply->members.items[i].volunteer_id, actor->volunteer_id) == 0;
    bool in_scope = st_actor_in_scope (actor, reply->region);
    if (!member && !in_scope) {
        st_call_fail (call, ST_NOT_FOUND, "id", "no team has id \"%s\"", request->id);
        return;
    }
    //  A member sees the others' names masked (the first character, then *), their own whole.
    for (size_t i = 0; i < reply->members.count && !in_scope; i++) {
        msg_member_t *m = &reply->members.items[i];
        if (strcmp (m->volunteer_id, actor->volunteer_id) != 0)
            s_mask_name (&m->name);
    }
}

//  An official in scope, or a leader of this very team, manages its members.
static int
s_require_team_manager (st_call_t *call, const msg_actor_t *actor, const msg_team_t *team)
{
    if (st_actor_in_scope (actor, team->region))
        return 0;
    if (strcmp (actor->role, "volunteer") == 0 && actor->volunteer_id) {
        st_params_t params = {0};
        st_params_text (&params, team->id);
        st_params_text (&params, actor->volunteer_id);
        PGresult *res;
        if (st_call_exec (call, "team_leads", &params, &res))
            return -1;
        bool leads = PQntuples (res) > 0;
        PQclear (res);
        if (leads)
            return 0;
    }
    return st_call_fail (call, ST_PERMISSION_DENIED, "team_id",
                         "only the team's leader or an official in scope manages its members");
}

//  The actor and team `team_id`, locked, when the actor manages its members; else the call
//  fails and -1.
static int
s_managed_team (st_call_t *call, const char *team_id, const msg_actor_t **actor, msg_team_t *team)
{
    int rc = st_require_actor (call, actor);
    if (rc == 0)
        rc = registry_load_team (call, "team_lock", team_id, team);
    if (rc == 0)
        rc = s_require_team_manager (call, *actor, team);
    return rc;
}

//  team.add_member changes a member's role (made leader, info officer); team.remove_member
//  ends a membership. Nobody joins here: a volunteer joins by accepting an invitation, so
//  a name the reply shows is always one of someone who chose to join.
static void
s_team_change_member (st_call_t *call, const msg_team_member_t *request, msg_team_t *reply,
                      bool add)
{
    const char *role = request->role ? request->role : "member";
    if (add && st_require_one_of (call, "role", role, s_member_roles))
        return;
    const msg_actor_t *actor;
    msg_team_t team = {0};
    int rc = s_managed_team (call, request->team_id, &actor, &team);
    int64_t volunteer_id = 0;
    if (rc == 0 && !st_parse_id (request->volunteer_id, &volunteer_id))
        rc =
            st_call_fail (call, ST_NOT_FOUND, "volunteer_id",
                          "volunteer \"%s\" is not in team \"%s\"", request->volunteer_id, team.id);
    if (rc == 0) {
        st_params_t params = {0};
        st_params_text (&params, team.id);
        st_params_int (&params, volunteer_id);
        if (add) {
            st_params_text (&params, role);
            PGresult *res = NULL;
            rc = st_call_exec (call, "membership_set_role", &params, &res);
            bool member = rc == 0 && PQntuples (res) > 0;
            if (res)
                PQclear (res);
            if (rc == 0 && !member)
                rc = st_call_fail (call, ST_FAILED_PRECONDITION, "volunteer_id",
                                   "volunteer \"%s\" is not in team \"%s\": a volunteer joins "
                                   "by accepting an invitation (team.invite)",
                                   request->volunteer_id, team.id);
        } else
            rc = registry_exec_found (call, "membership_delete", &params, NULL, "volunteer_id",
                                      "volunteer \"%s\" is not in team \"%s\"",
                                      request->volunteer_id, team.id);
    }
    st_msg_clear (&msg_team_desc, &team);
    if (rc || registry_load_team (call, "team_get", request->team_id, reply))
        return;
    msg_membership_changed_t event = {.team_id = reply->id,
                                      .volunteer_id = (char *) request->volunteer_id,
                                      .role = add ? (char *) role : NULL};
    st_call_emit (call, "membership.changed", &msg_membership_changed_desc, &event);
}

static void
s_team_add_member (st_call_t *call, const msg_team_member_t *request, msg_team_t *reply)
{
    s_team_change_member (call, request, reply, true);
}

static void
s_team_remove_member (st_call_t *call, const msg_team_member_t *request, msg_team_t *reply)
{
    s_team_change_member (call, request, reply, false);
}

//  ---------------------------------------------------------------------------------------
//  team.invite, invitation.accept, invitation.decline, invitation.list — a volunteer joins a
//  team by consent (入队邀请): the team's leader or an official proposes, the volunteer accepts

//  Whether the actor, managing `team`, may invite a volunteer of `region`: the system anyone,
//  an official in scope of the team those of their own scope, the team's leader those of the
//  team's region subtree.
static bool
s_may_invite (const msg_actor_t *actor, const msg_team_t *team, const char *region)
{
    if (st_actor_in_scope (actor, team->region))
        return st_actor_in_scope (actor, region);
    return st_region_within (team->region, region);
}

static void
s_team_invite (st_call_t *call, const msg_team_invite_t *request, msg_invitation_t *reply)
{
    const char *role = request->role ? request->role : "member";
    if (st_require_one_of (call, "role", role, s_member_roles))
        return;
    const msg_actor_t *actor;
    msg_team_t team = {0};
    int rc = s_managed_team (call, request->team_id, &actor, &team);
    //  A volunteer outside the inviter's scope reads as one that does not exist.
    int64_t volunteer_id = 0;
    PGresult *res = NULL;
    bool visible = false;
    if (rc == 0 && st_parse_id (request->volunteer_id, &volunteer_id)) {
        st_params_t params = {0};
        st_params_int (&params, volunteer_id);
        rc = st_call_exec (call, "volunteer_get", &params, &res);
        visible = rc == 0 && PQntuples (res) == 1
                  && s_may_invite (actor, &team, st_row_text (res, 0, "region"));
        if (res)
            PQclear (res);
    }
    if (rc == 0 && !visible)
        rc = st_call_fail (call, ST_NOT_FOUND, "volunteer_id", "no volunteer has id \"%s\"",
                           request->volunteer_id);
    if (rc == 0) {
        st_params_t params = {0};
        st_params_text (&params, team.id);
        st_params_int (&params, volunteer_id);
        if (st_call_exec (call, "membership_exists", &params, &res))
            rc = -1;
        else {
            bool member = PQntuples (res) > 0;
            PQclear (res);
            if (member)
                rc = st_call_fail (call, ST_CONFLICT, "volunteer_id",
                                   "volunteer \"%s\" is in team \"%s\" already",
                                   request->volunteer_id, team.id);
        }
    }
    if (rc == 0) {
        st_params_t params = {0};
        st_params_text (&params, team.id);
        st_params_int (&params, volunteer_id);
        st_params_text (&params, role);
        st_params_text (&params, actor->account);
        if (registry_exec_unique (call, "invitation_insert", &params, &res, "volunteer_id",
                                  "volunteer \"%s\" has an invitation to team \"%s\" pending "
                                  "already",
                                  request->volunteer_id, team.id))
            rc = -1;
    }
    st_msg_clear (&msg_team_desc, &team);
    if (rc)
        return;
    st_row_to_msg (res, 0, &msg_invitation_desc, reply);
    PQclear (res);
    st_call_emit (call, "invitation.created", &msg_invitation_desc, reply);
}

//  The invited volunteer answers a pending invitation once: accepting makes them a member in
//  the role they were invited to.
static void
s_invitation_answer (st_call_t *call, const char *id_text, bool accept, msg_invitation_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return;
    if (strcmp (actor->role, "volunteer") != 0 || !actor->volunteer_id) {
        st_call_fail (call, ST_PERMISSION_DENIED, "actor.role",
                      "only the volunteer invited answers an invitation");
        return;
    }
    int64_t id;
    PGresult *res;
    if (registry_row_by_id (call, "invitation_lock", "invitation", id_text, &id, &res))
        return;
    msg_invitation_t current = {0};
    st_row_to_msg (res, 0, &msg_invitation_desc, &current);
    PQclear (res);
    int rc = 0;
    if (!st_actor_is_volunteer (actor, current.volunteer_id))
        rc = st_call_fail (call, ST_PERMISSION_DENIED, "id",
                           "invitation \"%s\" is not to volunteer \"%s\": only the volunteer "
                           "invited answers it",
                           id_text, actor->volunteer_id);
    else if (strcmp (current.status, "pending") != 0)
        rc = st_call_fail (call, ST_FAILED_PRECONDITION, "id", "invitation \"%s\" is %s already",
                           id_text, current.status);
    st_params_t params = {0};
    if (rc == 0) {
        st_params_int (&params, id);
        st_params_text (&params, accept ? "accepted" : "declined");
        rc = registry_exec_found (call, "invitation_answer", &params, &res, "id",
                                  "invitation \"%s\" is no longer pending", id_text);
    }
    if (rc == 0) {
        st_row_to_msg (res, 0, &msg_invitation_desc, reply);
        PQclear (res);
    }
    if (rc == 0 && accept) {
        st_params_text (&params, current.team_id);
        st_params_text (&params, current.volunteer_id);
        st_params_text (&params, current.role);
        rc = st_call_exec (call, "membership_upsert", &params, NULL);
        msg_membership_changed_t event = {
            .team_id = current.team_id, .volunteer_id = current.volunteer_id, .role = current.role};
        if (rc == 0)
            rc = st_call_emit (call, "membership.changed", &msg_membership_changed_desc, &event);
    }
    st_msg_clear (&msg_invitation_desc, &current);
    if (rc == 0)
        st_call_emit (call, accept ? "invitation.accepted" : "invitation.declined",
                      &msg_invitation_desc, reply);
}

static void
s_invitation_accept (st_call_t *call, const msg_invitation_ref_t *request, msg_invitation_t *reply)
{
    s_invitation_answer (call, request->id, true, reply);
}

static void
s_invitation_decline (st_call_t *call, const msg_invitation_ref_t *request, msg_invitation_t *reply)
{
    s_invitation_answer (call, request->id, false, reply);
}

//  A volunteer's pending invitations: their own, or those of a volunteer in an official's
//  scope (out of scope reads as absent).
static void
s_invitation_list (st_call_t *call, const msg_invitation_list_t *request, msg_invitations_t *reply)
{
    const msg_actor_t *actor;
    if (st_require_actor (call, &actor))
        return;
    const char *volunteer = request->volunteer_id ? request->volunteer_id : actor->volunteer_id;
    int64_t id;
    if (!volunteer) {
        st_call_fail (call, ST_INVALID_ARGUMENT, "volunteer_id",
                      "\"volunteer_id\" names whose invitations to list");
        return;
    }
    if (st_require_id (call, "volunteer_id", "volunteer", volunteer, &id))
        return;
    if (!st_actor_is_volunteer (actor, volunteer)) {
        st_params_t params = {0};
        st_params_int (&params, id);
        PGresult *res;
        if (st_call_exec (call, "volunteer_get", &params, &res))
            return;
        bool visible =
            PQntuples (res) == 1 && st_actor_in_scope (actor, st_row_text (res, 0, "region"));
        PQclear (res);
        if (!visible) {
            st_call_fail (call, ST_NOT_FOUND, "volunteer_id", "no volunteer has id \"%s\"",
                          volunteer);
            return;
        }
    }
    st_params_t params = {0};
    st_params_int (&params, id);
    PGresult *res;
    if (st_call_exec (call, "invitation_list", &params, &res))
        return;
    st_rows_to_list (res, &msg_invitation_desc, (st_list_t *) &reply->items, &reply->has_items);
    PQclear (res);
}

//  ---------------------------------------------------------------------------------------
//  team.list — an official's teams (their region subtree), a volunteer's own

static void
s_team_list (st_call_t *call, const msg_team_list_t *request, msg_team_page_t *reply)
{
    const msg_actor_t *actor;
    int64_t cursor = 0, volunteer = 0;
    if (st_require_actor (call, &actor)
        || (request->cursor && st_require_id (call, "cursor", "page", request->cursor, &cursor))
        || (request->region && st_require_code (call, "region", request->region)))
        return;
    char below[ST_REGION_SIZE] = "";
    if (st_actor_is_official (actor) || st_actor_is_system (actor)) {
        const char *region = request->region ? request->region : actor->region;
        if (!region) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "region",
                          "\"region\" names whose teams to list");
            return;
        }
        if (st_require_scope (call, actor, "region", region))
            return;
        st_region_prefix (region, below);
    } else if (actor->role && strcmp (actor->role, "volunteer") == 0 && actor->volunteer_id) {
        if (request->region) {
            st_call_fail (call, ST_INVALID_ARGUMENT, "region",
                          "a volunteer lists their own teams: leave \"region\" out");
            return;
        }
        if (st_require_id (call, "actor.volunteer_id", "volunteer", actor->volunteer_id,
                           &volunteer))
            return;
    } else {
        st_call_fail (call, ST_PERMISSION_DENIED, "actor.role",
                      "teams are listed by officials and by their members");
        return;
    }
    int64_t limit = request->has_limit ? request->limit : 20;
    st_params_t params = {0};
    st_params_text (&params, *below ? below : NULL);
    st_params_int_or_null (&params, volunteer != 0, volunteer);
    st_params_int_or_null (&params, cursor != 0, cursor);
    st_params_int (&params, limit);
    PGresult *res;
    if (st_call_exec (call, "team_list", &params, &res))
        return;
    size_t count = (size_t) PQntuples (res);
    st_rows_to_list (res, &msg_team_summary_desc, (st_list_t *) &reply->items, &reply->has_items);
    if ((int64_t) count == limit)
        reply->next_cursor = st_strdup (reply->items.items[count - 1].id);
    PQclear (res);
}
