/*  ledger_shop_store.c — the SQL of the points store (ledger_shop.c), by name; reserving and
    ending a redemption are functions of sql/0004_shop.sql (redemption_reserve,
    redemption_end), so that the points held, the stock and the redemption move in one
    statement under the locks they need.  */
#include "ledger_store.h"

//  An item (i) as the store shows it.
#define S_ITEM_COLUMNS                                                                             \
    "i.id::text AS id, i.name, i.kind, i.price_points, i.stock, i.region, i.description,"          \
    " i.limit_quantity, i.limit_period, i.status, rfc3339 (i.created_at) AS created_at,"           \
    " rfc3339 (i.updated_at) AS updated_at"
//  A redemption (r) of item i.
#define S_REDEMPTION_COLUMNS                                                                       \
    "r.id::text AS id, r.item_id::text AS item_id, i.name AS item_name, i.kind,"                   \
    " r.volunteer_id::text AS volunteer_id, r.quantity, r.points, r.status, r.region,"             \
    " rfc3339 (r.created_at) AS created_at, rfc3339 (r.expires_at) AS expires_at,"                 \
    " rfc3339 (r.ended_at) AS ended_at, r.ended_by"

static const st_statement_t s_statements[] = {
    //  item.create: $1 name .. $10 by.
    {"shop_item_insert",
     "INSERT INTO items (name, kind, description, price_points, stock, region, prefix,"
     " limit_quantity, limit_period, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
     " RETURNING id"},
    {"shop_item_get", "SELECT " S_ITEM_COLUMNS " FROM items i WHERE i.id = $1"},
    //  item.update: the item locked until the change commits.
    {"shop_item_lock",
     "SELECT region, limit_quantity, limit_period FROM items WHERE id = $1 FOR UPDATE"},
    //  $2..$6 and $9 replace what they give; $7, $8 are the limit as it will stand.
    {"shop_item_update",
     "UPDATE items SET name = coalesce ($2, name), kind = coalesce ($3, kind),"
     " price_points = coalesce ($4, price_points), stock = coalesce ($5, stock),"
     " description = coalesce ($6, description), limit_quantity = $7, limit_period = $8,"
     " status = coalesce ($9, status), updated_at = now () WHERE id = $1"},
    //  The items a volunteer of region $1 may redeem: of their region and those above it;
    //  withdrawn ones too when $2 (an official); after item $3, $4 of them.
    {"shop_item_list",
     "SELECT " S_ITEM_COLUMNS " FROM items i WHERE left ($1, length (i.prefix)) = i.prefix"
     " AND ($2 OR i.status = 'active') AND ($3::bigint IS NULL OR i.id > $3) ORDER BY i.id"
     " LIMIT $4"},
    //  The items of the subtree of prefix $1.
    {"shop_item_list_below",
     "SELECT " S_ITEM_COLUMNS " FROM items i WHERE left (i.region, length ($1)) = $1"
     " AND ($2 OR i.status = 'active') AND ($3::bigint IS NULL OR i.id > $3) ORDER BY i.id"
     " LIMIT $4"},
    //  redemption.reserve: item $1, volunteer $2 of region $3, quantity $4, source $5.
    {"shop_reserve", "SELECT outcome, redemption_id, price, stock, available, used, lim, period"
                     " FROM redemption_reserve ($1::bigint, $2::bigint, $3, $4::integer, $5)"},
    {"shop_redemption_get",
     "SELECT " S_REDEMPTION_COLUMNS " FROM redemptions r JOIN items i ON i.id = r.item_id"
     " WHERE r.id = $1"},
    //  A redemption locked for its end (fulfil, cancel): who may end it, whether it can.
    {"shop_redemption_lock",
     "SELECT status, volunteer_id::text AS volunteer_id, volunteer_region, region,"
     " expires_at <= now () AS past, rfc3339 (expires_at) AS expires_at FROM redemptions"
     " WHERE id = $1 FOR UPDATE"},
    //  Ends redemption $1 as $2 (fulfilled, cancelled, expired) by $3.
    {"shop_redemption_end", "SELECT redemption_end ($1::bigint, $2, $3)"},
    //  redemption.list: of volunteer $1, of status $2, before redemption $3, of items or
    //  volunteers of prefix $4 (NULL: any), $5 of them, newest first.
    {"shop_redemption_list",
     "SELECT " S_REDEMPTION_COLUMNS " FROM redemptions r JOIN items i ON i.id = r.item_id"
     " WHERE ($1::bigint IS NULL OR r.volunteer_id = $1) AND ($2::text IS NULL OR r.status = $2)"
     " AND ($3::bigint IS NULL OR r.id < $3) AND ($4::text IS NULL"
     " OR left (r.region, length ($4)) = $4 OR left (r.volunteer_region, length ($4)) = $4)"
     " ORDER BY r.id DESC LIMIT $5"},
    //  store.settings.set: region $1 (prefix $2) holds reservations $3 seconds.
    {"shop_settings_set",
     "INSERT INTO store_settings (region, prefix, hold_s, set_by) VALUES ($1, $2, $3, $4)"
     " ON CONFLICT (region) DO UPDATE SET hold_s = EXCLUDED.hold_s, set_by = EXCLUDED.set_by,"
     " set_at = now ()"},
    {"shop_settings_get", "SELECT $1::text AS region, hold_s, from_region FROM store_setting ($1)"},
    //  The ticker: reservations past their time, $1 at most, that no one else holds.
    {"shop_expire_claim",
     "SELECT id FROM redemptions WHERE status = 'reserved' AND expires_at <= now ()"
     " ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED"},
    {"shop_redemption_event",
     "SELECT r.id::text AS id, r.volunteer_id::text AS volunteer_id, r.item_id::text AS item_id,"
     " i.name AS item_name, i.kind, r.quantity, r.points, r.region FROM redemptions r"
     " JOIN items i ON i.id = r.item_id WHERE r.id = $1"},
    //  Milliseconds until the next reservation is due (NULL: none).
    {"shop_next_due",
     "SELECT CASE WHEN min (expires_at) IS NOT NULL THEN greatest (0, ceil (extract (epoch FROM"
     " min (expires_at) - now ()) * 1000))::bigint END FROM redemptions"
     " WHERE status = 'reserved'"},
};

void
ledger_shop_store_prepare (st_db_t *db)
{
    st_db_statements (db, s_statements, sizeof s_statements / sizeof s_statements[0]);
}
