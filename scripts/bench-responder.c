/* The benchmark's reference: a minimal multi-threaded C libfcgi responder that answers every
 * request with the bytes of one file (the rendered page), as fast as libfcgi allows.
 * usage: bench-responder SOCKET FILE THREADS */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static char *page;
static long page_length;
static int listen_fd;

static void *serve(void *unused) {
    (void)unused;
    FCGX_Request request;
    FCGX_InitRequest(&request, listen_fd, 0);
    while (FCGX_Accept_r(&request) >= 0) {
        FCGX_FPrintF(request.out, "Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n");
        FCGX_PutStr(page, (int)page_length, request.out);
        FCGX_Finish_r(&request);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s SOCKET FILE THREADS\n", argv[0]); return 2; }
    FILE *file = fopen(argv[2], "rb");
    if (!file) { perror(argv[2]); return 1; }
    fseek(file, 0, SEEK_END);
    page_length = ftell(file);
    rewind(file);
    page = malloc(page_length);
    if (fread(page, 1, page_length, file) != (size_t)page_length) { perror("read"); return 1; }
    fclose(file);
    /* libfcgi swallows SIGTERM if it is left at its default: exit on it ourselves. */
    signal(SIGTERM, (void (*)(int))_exit);
    FCGX_Init();
    listen_fd = FCGX_OpenSocket(argv[1], 1024);
    if (listen_fd < 0) { fprintf(stderr, "cannot listen on %s\n", argv[1]); return 1; }
    chmod(argv[1], 0660);
    int threads = atoi(argv[3]);
    pthread_t ids[256];
    for (int i = 0; i < threads && i < 256; i++) pthread_create(&ids[i], NULL, serve, NULL);
    for (int i = 0; i < threads && i < 256; i++) pthread_join(ids[i], NULL);
    return 0;
}
