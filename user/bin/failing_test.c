/*
 * A test program that fails on purpose: make test boots with
 * `test=user usertest=failing_test` and checks the run is reported as
 * failed, proving a failing user test cannot pass unnoticed.
 */
#include <ktap.h>

static void passes(void)
{
	KT_EXPECT_EQ(1 + 1, 2);
}

static void fails_on_purpose(void)
{
	KT_EXPECT_EQ(1 + 1, 3);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(passes),
		KTAP_CASE(fails_on_purpose),
	};
	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
