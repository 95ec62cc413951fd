#include "options.h"
#include "check_main.h"

#include <errno.h>
#include <string.h>

static int parse(struct options *o, const char *a, const char *b, const char *c, const char *d)
{
	char why[256];
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
}
END_TEST

START_TEST(bad_options_are_refused)
{
	struct options o;
	ck_assert_int_eq(parse(&o, "img", "mnt", "-o", "rw"), -EINVAL);
	ck_assert_int_eq(parse(&o, "img", "mnt", "-o", "offset=abc"), -EINVAL);
	ck_assert_int_eq(parse(&o, "img", "mnt", "-o", "bogus"), -EINVAL);
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

CHECK_MAIN("options", mount_style_options, bad_options_are_refused, sizes)
