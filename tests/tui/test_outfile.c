/*
 * tests/tui/test_outfile.c: files of people's data (tui/outfile.c). The
 * target is replaced only by a complete file of mode 0600; a failure, an
 * abort or a signal leaves it as it was, with nothing beside it.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tui/outfile.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hato-outfile-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/out.csv", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The number of files in the folder. */
static int files(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static const char *content(const char *p)
{
	static char buf[64];
	FILE *fp = fopen(p, "r");
	size_t n;

	if (fp == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void old_file(void)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs("old\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0644), 0);
}

static void test_commit_replaces_with_0600(void **state)
{
	struct outfile o;
	struct stat sb;

	(void)state;
	old_file();
	assert_int_equal(outfile_open(&o, path, true, NULL), 0);
	fputs("new\n", o.fp);
	assert_int_equal(files(), 2);		     /* the new file is beside the old */
	assert_string_equal(content(path), "old\n"); /* which is untouched so far */
	assert_int_equal(outfile_commit(&o), 0);
	assert_string_equal(content(path), "new\n");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(files(), 1);
}

static void test_abort_and_signal_leave_the_old_file(void **state)
{
	struct outfile o;

	(void)state;
	old_file();
	assert_int_equal(outfile_open(&o, path, true, NULL), 0);
	fputs("partial\n", o.fp);
	outfile_abort(&o);
	assert_string_equal(content(path), "old\n");
	assert_int_equal(files(), 1);
	/* What a signal handler does: the new file goes at once. */
	assert_int_equal(outfile_open(&o, path, true, NULL), 0);
	fputs("partial\n", o.fp);
	fflush(o.fp);
	assert_int_equal(files(), 2);
	outfile_on_signal();
	assert_int_equal(files(), 1);
	assert_string_equal(content(path), "old\n");
	outfile_abort(&o);
	/* A file that did not exist does not appear. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(outfile_open(&o, path, false, NULL), 0);
	outfile_on_signal();
	outfile_abort(&o);
	assert_int_equal(files(), 0);
}

static void test_refusals(void **state)
{
	struct outfile o;
	char link[160], deep[160];

	(void)state;
	old_file();
	assert_int_equal(outfile_open(&o, path, false, NULL), -1);
	assert_int_equal(errno, EEXIST);
	snprintf(link, sizeof(link), "%s/link.csv", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(outfile_open(&o, link, true, NULL), -1);
	assert_int_equal(errno, ELOOP);
	snprintf(deep, sizeof(deep), "%s/no/such/folder.csv", dir);
	assert_int_equal(outfile_open(&o, deep, true, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(files(), 2);
	assert_string_equal(content(path), "old\n");
}

/* Not a regular file: written straight to it, nothing made beside it. */
static void test_device(void **state)
{
	struct outfile o;

	(void)state;
	assert_int_equal(outfile_open(&o, "/dev/null", true, NULL), 0);
	assert_string_equal(o.tmp, "");
	fputs("to nowhere\n", o.fp);
	assert_int_equal(outfile_commit(&o), 0);
	/* A full disk is called by its name. */
	assert_int_equal(outfile_open(&o, "/dev/full", true, NULL), 0);
	fputs("to a full disk\n", o.fp);
	assert_int_equal(outfile_commit(&o), -1);
	assert_int_equal(errno, ENOSPC);
	assert_string_equal(outfile_why(&o, errno), "the disk is full");
}

/* An import's rejects: kept only when there are some; none leaves the old
 * file as it was. */
static void test_finish(void **state)
{
	struct outfile o;
	struct stat sb;

	(void)state;
	old_file();
	assert_int_equal(outfile_open(&o, path, true, NULL), 0);
	assert_int_equal(outfile_finish(&o, false), 0);
	assert_string_equal(content(path), "old\n");
	assert_int_equal(files(), 1);
	assert_int_equal(outfile_open(&o, path, true, NULL), 0);
	fputs("rejects\n", o.fp);
	assert_int_equal(outfile_finish(&o, true), 0);
	assert_string_equal(content(path), "rejects\n");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(files(), 1);
}

/* The file being read is recognised under another name. */
static void test_is(void **state)
{
	char other[160];
	FILE *fp;

	(void)state;
	old_file();
	fp = fopen(path, "r");
	assert_non_null(fp);
	snprintf(other, sizeof(other), "%s/../%s/out.csv", dir, strrchr(dir, '/') + 1);
	assert_true(outfile_is(path, fileno(fp)));
	assert_true(outfile_is(other, fileno(fp)));
	snprintf(other, sizeof(other), "%s/link", dir);
	assert_int_equal(link(path, other), 0);
	assert_true(outfile_is(other, fileno(fp)));
	snprintf(other, sizeof(other), "%s/new.csv", dir);
	assert_false(outfile_is(other, fileno(fp)));
	fclose(fp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_commit_replaces_with_0600, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort_and_signal_leave_the_old_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_device, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_finish, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_is, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
