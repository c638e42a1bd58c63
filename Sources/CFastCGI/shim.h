#ifndef SWITCHBOARD_CFASTCGI_SHIM_H
#define SWITCHBOARD_CFASTCGI_SHIM_H

#include <fcgiapp.h>
#include <stdio.h>
#include <signal.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>

/// Line-buffer stdout and stderr: Swift 6 cannot touch the C `stdout` global directly.
static inline void cfcgi_line_buffer_stdio(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IOLBF, 0);
}

/// Blocks SIGTERM, SIGINT and SIGPIPE in the calling thread (and in every thread it starts later),
/// so that one thread can `sigwait` for them instead of libfcgi's handlers swallowing them.
static inline int cfcgi_block_stop_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    return pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/// Waits for SIGTERM or SIGINT; returns the signal number.
static inline int cfcgi_wait_stop_signal(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    return sig;
}

#endif
