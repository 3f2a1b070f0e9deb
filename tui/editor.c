/*
 * tui/editor.c: text edited in $VISUAL or $EDITOR, as mutt and git do: the
 * text goes to a temp file (mode 0600, in $TMPDIR), curses steps aside while
 * the editor runs, and the file is read back. The file is overwritten with
 * zeros before it is removed: it may hold what is not public yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "templates/templates.h"
#include "tui/ui.h"

void ui_edit_wipe(char path[UI_EDIT_PATH])
{
	struct stat sb;
	char zero[4096] = {0};
	off_t left;
	int fd;

	if (path[0] == '\0')
		return;
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &sb) == 0) {
		for (left = sb.st_size; left > 0; left -= (off_t)sizeof(zero))
			if (write(fd, zero,
				  left < (off_t)sizeof(zero) ? (size_t)left : sizeof(zero)) < 0)
				break;
		fsync(fd);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	path[0] = '\0';
}

int ui_edit_write(struct ui *ui, char path[UI_EDIT_PATH], const char *text, const char *suffix)
{
	const char *dir = getenv("TMPDIR");
	size_t len = strlen(text);
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(path, UI_EDIT_PATH, "%s/hato-template-XXXXXX%s", dir, suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	if (fd < 0) {
		ui_error(ui, "cannot create a temp file in %s: %s", dir, strerror(errno));
		path[0] = '\0';
		return -1;
	}
	fchmod(fd, 0600);
	if (write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
		ui_error(ui, "cannot write %s: %s", path, strerror(errno));
		ui_edit_wipe(path);
		return -1;
	}
	return 0;
}

/*
 * As system() does, hato ignores Ctrl-C and Ctrl-\ while it waits: they are
 * the editor's keys.
 */
int ui_edit_run(struct ui *ui, const char *path, const char *unchanged)
{
	struct sigaction ign, old_int, old_quit;
	pid_t pid;
	int status = 0;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	term_suspend();
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execl("/bin/sh", "sh", "-c", "exec ${VISUAL:-${EDITOR:-vi}} \"$1\"", "sh", path,
		      (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	term_resume();
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ui_error(ui, "the editor failed (exit %d); %s",
			 pid < 0 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status), unchanged);
		return -1;
	}
	return 0;
}

char *ui_edit_read(const char *path)
{
	struct tpl_buf b = {0};
	char chunk[4096];
	size_t n;
	FILE *fp = fopen(path, "rb");

	if (fp == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		tpl_buf_append(&b, chunk, n);
	fclose(fp);
	tpl_buf_appendc(&b, '\0');
	return tpl_buf_steal(&b);
}
