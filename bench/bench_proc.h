/*  bench_proc.h — what a process cost, from /proc: its CPU time and the context switches of
    every thread, figures that depend little on what else the machine runs.  */
#ifndef BENCH_PROC_H_INCLUDED
#define BENCH_PROC_H_INCLUDED

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

//  Adds the CPU time (ms) and context switches, voluntary and not, of process `pid` (every
//  thread) to *cpu_ms and *switches; a process that is gone adds nothing.
static inline void
bench_proc_cost (pid_t pid, double *cpu_ms, long *switches)
{
    char path[64], line[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return;
    if (fgets (line, sizeof line, file)) {
        //  After the command's closing parenthesis: state is field 3, utime 14, stime 15.
        const char *p = strrchr (line, ')');
        unsigned long utime = 0, stime = 0;
        if (p
            && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime)
                   == 2)
            *cpu_ms += (double) (utime + stime) * 1000.0 / (double) sysconf (_SC_CLK_TCK);
    }
    fclose (file);
    snprintf (path, sizeof path, "/proc/%d/task", (int) pid);
    DIR *tasks = opendir (path);
    struct dirent *task;
    while (tasks && (task = readdir (tasks))) {
        if (task->d_name[0] == '.')
            continue;
        snprintf (line, sizeof line, "/proc/%d/task/%s/status", (int) pid, task->d_name);
        file = fopen (line, "r");
        while (file && fgets (line, sizeof line, file)) {
            long count;
            if (sscanf (line, "voluntary_ctxt_switches: %ld", &count) == 1
                || sscanf (line, "nonvoluntary_ctxt_switches: %ld", &count) == 1)
                *switches += count;
        }
        if (file)
            fclose (file);
    }
    if (tasks)
        closedir (tasks);
}

//  Adds the cost of every child of process `parent` (PostgreSQL's backends: the postmaster's
//  children, which come and go while the services' own stay), as bench_proc_cost does.
static inline void
bench_proc_children_cost (pid_t parent, double *cpu_ms, long *switches)
{
    DIR *procs = parent ? opendir ("/proc") : NULL;
    struct dirent *proc;
    while (procs && (proc = readdir (procs))) {
        int pid = atoi (proc->d_name);
        if (pid <= 0)
            continue;
        char path[64], line[512];
        snprintf (path, sizeof path, "/proc/%d/stat", pid);
        FILE *file = fopen (path, "r");
        int of = 0;
        if (file && fgets (line, sizeof line, file)) {
            const char *p = strrchr (line, ')');
            if (p)
                sscanf (p + 2, "%*c %d", &of);
        }
        if (file)
            fclose (file);
        if (of == parent)
            bench_proc_cost (pid, cpu_ms, switches);
    }
    if (procs)
        closedir (procs);
}

//  The PostgreSQL postmaster's pid, from postmaster.pid in the cluster the harness uses
//  (STATION_TEST_PGHOST), or 0 when it cannot be read.
static inline pid_t
bench_postmaster_pid (void)
{
    char path[600];
    const char *host = getenv ("STATION_TEST_PGHOST");
    snprintf (path, sizeof path, "%s/postmaster.pid", host ? host : "");
    FILE *file = fopen (path, "r");
    int pid = 0;
    if (!file || fscanf (file, "%d", &pid) != 1)
        pid = 0;
    if (file)
        fclose (file);
    return pid;
}

//  The 1-minute load average (uptime's first figure), or 0 when it cannot be read.
static inline double
bench_load_average (void)
{
    double load = 0;
    FILE *file = fopen ("/proc/loadavg", "r");
    if (file && fscanf (file, "%lf", &load) != 1)
        load = 0;
    if (file)
        fclose (file);
    return load;
}

#endif
