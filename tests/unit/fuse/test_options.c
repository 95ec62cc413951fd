// SPDX-License-Identifier: MIT
#include "options.h"
#include "check_main.h"

#include <errno.h>
#include <string.h>

static char why[256];

static int parse(struct options *o, const char *a, const char *b, const char *c, const char *d)
{
	char *argv[] = {"ext4pager", (char *)a, (char *)b, (char *)c, (char *)d, NULL};
	int argc = 1;
	while (argv[argc])
		argc++;
	return options_parse(argc, argv, o, why, sizeof(why));
}

START_TEST(mount_style_options)
{
	struct options o;
	ck_assert_int_eq(parse(&o, "img", "mnt", "-o", "ro,offset=1M,cache_size=16M,allow_other"),
			 0);
	ck_assert_str_eq(o.image, "img");
	ck_assert_str_eq(o.mountpoint, "mnt");
	ck_assert_uint_eq(o.offset, 1 << 20);
	ck_assert_uint_eq(o.cache_size, 16 << 20);
	ck_assert(o.allow_other);
	ck_assert_int_eq(parse(&o, "-o", "nosuid,noexec,defaults,pager_threads=3", "img", "mnt"),
			 0);
	ck_assert_str_eq(o.fuse_opts, "nosuid,noexec");
	ck_assert_uint_eq(o.pager_threads, 3);
	options_free(&o);
	ck_assert_int_eq(parse(&o, "-oidle_timeout=5,partition=2,x-systemd.automount,nofail", "-d",
			       "img", "mnt"),
			 0);
	ck_assert_uint_eq(o.idle_timeout, 5);
	ck_assert_int_eq(o.partition, 2);
	ck_assert(o.debug && o.foreground);
	ck_assert_ptr_null(o.fuse_opts);
	options_free(&o);
}
END_TEST

START_TEST(a_comma_inside_a_value_is_escaped)
{
	struct options o;
	ck_assert_int_eq(parse(&o, "-o", "fsname=disk\\,one,norecovery", "img", "mnt"), 0);
	ck_assert_str_eq(o.fsname, "disk,one");
	ck_assert(o.norecovery);
	options_free(&o);
}
END_TEST

START_TEST(run_mode_and_queries)
{
	struct options o;
	char *argv[] = {"ext4pager", "run", "-o", "ro", "img", "--", "sh", "-c", "echo -o x", NULL};
	ck_assert_int_eq(options_parse(9, argv, &o, why, sizeof(why)), 0);
	ck_assert(o.run_mode);
	ck_assert_str_eq(o.image, "img");
	ck_assert_str_eq(o.command[0], "sh");
	ck_assert_str_eq(o.command[2], "echo -o x");
	options_free(&o);
	ck_assert_int_eq(parse(&o, "--stats", "/mnt", NULL, NULL), 0);
	ck_assert_str_eq(o.stats_mountpoint, "/mnt");
	options_free(&o);
	ck_assert_int_eq(parse(&o, "--stats", NULL, NULL, NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "--stats"));
	ck_assert_ptr_null(strchr(why, '\n'));
	options_free(&o);
}
END_TEST

START_TEST(bad_options_are_refused)
{
	struct options o;
	ck_assert_int_eq(parse(&o, "img", "mnt", "-o", "rw"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "read-only"));
	ck_assert_int_eq(parse(&o, "img", "mnt", "-o", "offset=abc"), -EINVAL);
	ck_assert_int_eq(parse(&o, "img", "mnt", "-o", "bogus"), -EINVAL);
	ck_assert_str_eq(why, "unknown mount option 'bogus' (see --help)");
	ck_assert_int_eq(parse(&o, "img", "mnt", "-o", "cache_size=1K"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "cache_size=1K"));
	ck_assert_int_eq(parse(&o, "img", "mnt", "extra", NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "unexpected argument"));
	ck_assert_int_eq(parse(&o, "-o", "offset=4096,partition=1", "img", "mnt"), -EINVAL);
	ck_assert_int_eq(parse(&o, "img", "mnt", "-o", "pager_threads=0"), -EINVAL);
	ck_assert_int_eq(parse(&o, "img", NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(parse(&o, "--frobnicate", "img", "mnt", NULL), -EINVAL);
}
END_TEST

START_TEST(sizes)
{
	uint64_t v;
	ck_assert_int_eq(options_parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(options_parse_size("0x1000", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(options_parse_size("2G", &v), 0);
	ck_assert_uint_eq(v, 2ull << 30);
	ck_assert_int_eq(options_parse_size("-1", &v), -EINVAL);
	ck_assert_int_eq(options_parse_size("12Q", &v), -EINVAL);
}
END_TEST

CHECK_MAIN("options", mount_style_options, a_comma_inside_a_value_is_escaped, run_mode_and_queries,
	   bad_options_are_refused, sizes)
