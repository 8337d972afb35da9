/*  station_deploy.h — the keys and passwords of a container deploy  */
#ifndef STATION_DEPLOY_H_INCLUDED
#define STATION_DEPLOY_H_INCLUDED

#include "st_status.h"

//  The uids the deploy's containers run as; docker/Dockerfile and docker/postgres.Dockerfile
//  pin the same numbers.
#define ST_DEPLOY_SERVICE_UID  10001
#define ST_DEPLOY_POSTGRES_UID 10002

//  Makes what is missing of a deploy's keys and passwords under `dir`, one folder per
//  container (station_deploy.c). Returns 0; 1 when done but not run as root, so the files
//  still belong to the caller rather than to the containers' uids; -1 with err filled.
int station_keys_deploy (const char *dir, st_error_t *err);

#endif
