/*
 * tui/bgworker.c: a campaign worker in the background of a UI session, so
 * that a campaign goes from draft to sent without a second terminal.
 *
 * The UI keeps no password. When the user accepts the offer to run a worker,
 * the screen asks for the password again and hands it here; a child process
 * opens its own store with it (never sharing the UI's SQLite connection
 * across fork), wipes it, and runs send_worker_run until SIGTERM. The child
 * writes its log to STORE.worker.log, never to the terminal, and tells the
 * parent through a pipe whether the store opened. It asks the kernel for
 * SIGTERM when the UI dies (PR_SET_PDEATHSIG), and ui_free stops it. The
 * log's path is made absolute, so that the screens can say where it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "send/send.h"
#include "tui/ui.h"

static pid_t child;
static volatile sig_atomic_t child_stop;
static char logfile[4200];   /* the child's log */
static char last_words[256]; /* the log's last line when the child ended by itself */

static void on_stop(int sig)
{
	(void)sig;
	child_stop = 1;
}

/* Writes the whole buffer, retrying on EINTR. */
static void write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* The child: never returns. */
static void run_child(const char *path, const char *logpath, const char *user, char *pw, int report,
		      pid_t parent)
{
	static const int reset[] = {SIGINT,  SIGHUP,  SIGQUIT, SIGWINCH, SIGTSTP,
				    SIGSEGV, SIGABRT, SIGBUS,  SIGFPE};
	struct send_worker_opts o = {0};
	struct sigaction sa;
	struct store *st = NULL;
	enum send_status s;
	char *err = NULL, msg[512];
	FILE *log = NULL;
	size_t i;
	int fd;

	/* Die with the UI, and leave the UI's terminal and its signals alone. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	setsid();
	for (i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		signal(reset[i], SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);

	fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	log = fdopen(dup(STDERR_FILENO), "a");
	if (log != NULL)
		setvbuf(log, NULL, _IOLBF, 0);

	if (store_open(path, user, pw, &st, &err) != STORE_OK) {
		sodium_memzero(pw, strlen(pw));
		snprintf(msg, sizeof(msg), "E%s", err ? err : "cannot open the store");
		write_all(report, msg, strlen(msg));
		_exit(1);
	}
	sodium_memzero(pw, strlen(pw));
	if (send_worker_running(st)) {
		snprintf(msg, sizeof(msg), "Eanother worker is running for this store already");
		write_all(report, msg, strlen(msg));
		store_close(&st);
		_exit(1);
	}
	write_all(report, "K", 1);
	close(report);
	o.stop = &child_stop;
	o.log = log;
	s = send_worker_run(st, &o, &err);
	if (s != SEND_OK && log != NULL)
		fprintf(log, "worker: %s\n", err ? err : send_strstatus(s));
	store_close(&st);
	if (log != NULL)
		fclose(log);
	_exit(s == SEND_OK ? 0 : 1);
}

int ui_worker_start(const char *store_path, const char *user, const char *password, char **errstr)
{
	struct pollfd pfd;
	char msg[512], *pw, *abs;
	ssize_t n = 0, r;
	pid_t parent = getpid(), pid;
	int fds[2], status;

	*errstr = NULL;
	if (ui_worker_pid() > 0) {
		*errstr = strdup("this session runs a worker already");
		return -1;
	}
	pw = sodium_malloc(strlen(password) + 1);
	if (pw == NULL || pipe2(fds, O_CLOEXEC) != 0) {
		if (pw != NULL)
			sodium_free(pw);
		*errstr = strdup("cannot start a worker: out of resources");
		return -1;
	}
	memcpy(pw, password, strlen(password) + 1);
	/* STORE.worker.log, from the store's absolute path. */
	abs = realpath(store_path, NULL);
	snprintf(logfile, sizeof(logfile), "%s.worker.log", abs != NULL ? abs : store_path);
	free(abs);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		run_child(store_path, logfile, user, pw, fds[1], parent);
	}
	sodium_free(pw); /* wipes the parent's copy */
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		*errstr = strdup("cannot start a worker: fork failed");
		return -1;
	}
	/* Wait for the child's word: the KDF may take a few seconds. */
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (n < (ssize_t)sizeof(msg) - 1) {
		if (poll(&pfd, 1, 60000) <= 0)
			break;
		r = read(fds[0], msg + n, sizeof(msg) - 1 - (size_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
		if (msg[0] == 'K')
			break;
	}
	close(fds[0]);
	msg[n] = '\0';
	if (n > 0 && msg[0] == 'K') {
		child = pid;
		last_words[0] = '\0';
		return 0;
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	if (n > 1)
		*errstr = strdup(msg + 1);
	else if (asprintf(errstr, "the worker did not start; see %s", logfile) < 0)
		*errstr = NULL;
	return -1;
}

/* Keeps the last line of the child's log, which says why it stopped. */
static void remember_end(void)
{
	char line[256];
	FILE *fp = fopen(logfile, "r");

	last_words[0] = '\0';
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (line[0] != '\n')
			snprintf(last_words, sizeof(last_words), "%.*s", (int)strcspn(line, "\n"),
				 line);
	fclose(fp);
}

long ui_worker_pid(void)
{
	int status;

	if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
		child = 0;
		remember_end();
	}
	return (long)child;
}

void ui_worker_stop(void)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	int status, i;

	if (child <= 0)
		return;
	kill(child, SIGTERM);
	/* It finishes what is in flight; give it a few seconds. */
	for (i = 0; i < 200; i++) {
		if (waitpid(child, &status, WNOHANG) == child) {
			child = 0;
			return;
		}
		nanosleep(&ts, NULL);
	}
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	child = 0;
}

void ui_worker_line(struct store *st, char *buf, size_t size, bool *running)
{
	long pid = ui_worker_pid();

	*running = true;
	if (pid > 0)
		snprintf(buf, size, "worker: running (pid %ld, this session; log in %s)", pid,
			 logfile);
	else if (st != NULL && send_worker_running(st))
		snprintf(buf, size, "worker: running (in another process)");
	else if (last_words[0] != '\0') {
		*running = false;
		snprintf(buf, size, "worker: stopped: %s", last_words);
	} else {
		*running = false;
		snprintf(buf, size, "worker: not running, so nothing is sent%s",
			 st != NULL && store_can(st, STORE_PERM_CAMPAIGNS_SEND)
			     ? "; w runs one for this session"
			     : "");
	}
}

int ui_worker_offer(struct ui *ui, int tag)
{
	char line[200];
	bool running;

	ui_worker_line(ui_store(ui), line, sizeof(line), &running);
	if (running) {
		ui_info(ui, "%s", line);
		return UI_REDRAW_STATUS;
	}
	ui_input(ui, tag, UI_INPUT_SECRET, NULL,
		 "Run a worker until you leave hato. Your password again (not kept): ");
	return UI_REDRAW_ALL;
}

int ui_worker_answer(struct ui *ui, const char *password)
{
	char *err = NULL;

	ui_busy(ui, "starting a worker: opening the store...");
	if (ui_worker_start(ui_store_path(ui), store_user(ui_store(ui)), password, &err) != 0) {
		ui_error(ui, "%s", err ? err : "the worker did not start");
		free(err);
		return UI_REDRAW_ALL;
	}
	ui_info(ui, "a worker runs in the background until you leave hato (pid %ld)",
		ui_worker_pid());
	return UI_REDRAW_ALL;
}
