// SPDX-License-Identifier: MIT
/* The main() every unit test shares: one suite, one case, the tests listed by the caller. */
#ifndef EXT4PAGER_CHECK_MAIN_H
#define EXT4PAGER_CHECK_MAIN_H

#include <check.h>

#define CHECK_MAIN(name, ...) CHECK_MAIN_FIXTURE(name, NULL, NULL, __VA_ARGS__)

/* The same, with `setup` and `teardown` run around every test (in the test's own process). */
#define CHECK_MAIN_FIXTURE(name, setup, teardown, ...)                                             \
	int main(void)                                                                             \
	{                                                                                          \
		const TTest *tests[] = {__VA_ARGS__};                                              \
		Suite *s = suite_create(name);                                                     \
		TCase *tc = tcase_create(name);                                                    \
		SRunner *sr;                                                                       \
		int failed;                                                                        \
		tcase_set_timeout(tc, 120);                                                        \
		tcase_add_checked_fixture(tc, setup, teardown);                                    \
		for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)                      \
			_tcase_add_test(tc, tests[i], 0, 0, 0, 1);                                 \
		suite_add_tcase(s, tc);                                                            \
		sr = srunner_create(s);                                                            \
		srunner_run_all(sr, CK_NORMAL);                                                    \
		failed = srunner_ntests_failed(sr);                                                \
		srunner_free(sr);                                                                  \
		return failed ? 1 : 0;                                                             \
	}

#endif
