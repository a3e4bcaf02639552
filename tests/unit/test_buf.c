/* test_buf.c: the capped buffer (lib/buf.c). */
#include "tap.h"

#include "buf.h"
#include "error.h"

#include <stdlib.h>

int main(void)
{
	struct pgha_buf b;
	pgha_buf_init(&b, 10);
	is_str(pgha_buf_str(&b), "", "empty buffer reads as \"\"");
	is_int(pgha_buf_puts(&b, "hello"), 0, "append within the cap");
	is_int(pgha_buf_printf(&b, "%d", 42), 0, "printf within the cap");
	is_str(pgha_buf_str(&b), "hello42", "contents");
	is_int(pgha_buf_puts(&b, "world"), PGHA_E_TOOBIG, "append past the cap: TOOBIG");
	is_str(pgha_buf_str(&b), "hello42wor", "what fitted is kept");
	is_int(b.len, 10, "length at the cap");
	is_int(pgha_buf_puts(&b, "x"), PGHA_E_TOOBIG, "a full buffer refuses more");
	pgha_buf_reset(&b);
	is_str(pgha_buf_str(&b), "", "reset empties");
	pgha_buf_free(&b);
	ok(b.data == NULL && b.limit == 10, "free leaves an empty buffer with its limit");

	pgha_buf_init(&b, 100000);
	char big[3000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	is_int(pgha_buf_printf(&b, "%s|%s", big, big), 0, "printf larger than the stack buffer");
	is_int(b.len, 2 * 2999 + 1, "full length");
	char *s = pgha_buf_steal(&b);
	ok(s && strlen(s) == 5999 && b.data == NULL, "steal hands over the contents");
	free(s);
	s = pgha_buf_steal(&b);
	is_str(s, "", "steal of an empty buffer gives \"\"");
	free(s);
	return done_testing();
}
