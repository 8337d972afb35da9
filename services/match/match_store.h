/*  match_store.h — every SQL statement of the match service, by name  */
#ifndef MATCH_STORE_H_INCLUDED
#define MATCH_STORE_H_INCLUDED

#include "st_db.h"

//  Registers the match service's statements on a connection.
void match_store_prepare (st_db_t *db);

//  The columns of every statement that returns projects (project_insert), in this order.
enum {
    MATCH_PROJECT_ID,
    MATCH_PROJECT_NAME,
    MATCH_PROJECT_CATEGORY,
    MATCH_PROJECT_REGION,
    MATCH_PROJECT_THEME,
    MATCH_PROJECT_CREATED_AT
};

//  The columns of every statement that returns activities (activity_insert, activity_get,
//  activity_lock, activity_cancel), in this order; times as RFC 3339 text.
enum {
    MATCH_ACTIVITY_ID,
    MATCH_ACTIVITY_TITLE,
    MATCH_ACTIVITY_CATEGORY,
    MATCH_ACTIVITY_THEME,
    MATCH_ACTIVITY_PROJECT_ID,
    MATCH_ACTIVITY_SITE_ID,
    MATCH_ACTIVITY_REGION,
    MATCH_ACTIVITY_STARTS_AT,
    MATCH_ACTIVITY_ENDS_AT,
    MATCH_ACTIVITY_CAPACITY,
    MATCH_ACTIVITY_SIGNUP_CLOSES_AT,
    MATCH_ACTIVITY_MIN_STARS,
    MATCH_ACTIVITY_SKILLS,
    MATCH_ACTIVITY_INSURANCE_REQUIRED,
    MATCH_ACTIVITY_CONFIRMED,
    MATCH_ACTIVITY_WAITLISTED,
    MATCH_ACTIVITY_STATUS,
    MATCH_ACTIVITY_CANCEL_REASON,
    MATCH_ACTIVITY_CREATED_AT,
    MATCH_ACTIVITY_ENDED, //  true once ends_at has passed
    MATCH_ACTIVITY_LAT,
    MATCH_ACTIVITY_LON,
    MATCH_ACTIVITY_STARTED, //  true once starts_at has passed
};

//  The columns of activity_signup_run and activity_withdraw_run: the outcome, its detail,
//  then what the events tell of the activity.
enum {
    MATCH_SIGNUP_OUTCOME,
    MATCH_SIGNUP_DETAIL,
    MATCH_SIGNUP_NUMBER, //  signup: the waitlist position; withdraw: the volunteer promoted
    MATCH_SIGNUP_TITLE,
    MATCH_SIGNUP_REGION,
    MATCH_SIGNUP_STARTS_AT,
    MATCH_SIGNUP_ENDS_AT
};

//  The columns of every statement that returns wishes (wish_insert, wish_get, wish_lock,
//  wish_fulfil, wish_confirm), in this order.
enum {
    MATCH_WISH_ID,
    MATCH_WISH_TITLE,
    MATCH_WISH_DESCRIPTION,
    MATCH_WISH_REGION,
    MATCH_WISH_RESIDENT_ID,
    MATCH_WISH_VOLUNTEER_ID,
    MATCH_WISH_STATUS,
    MATCH_WISH_CREATED_AT,
    MATCH_WISH_CLAIMED_AT,
    MATCH_WISH_FULFILLED_AT,
    MATCH_WISH_CONFIRMED_AT
};

#endif
