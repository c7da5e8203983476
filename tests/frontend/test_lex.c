// test_lex.c — unit tests of the re2c lexer (lex.re): token kinds, values,
// positions, keywords, numbers, and recovery from bad bytes.
#include <string.h>

#include "../check.h"
#include "netc.h"

static File *mem_file(const char *text, size_t len) {
  File *f = xcalloc(1, sizeof *f);
  f->path = "<test>";
  f->text = xcalloc(len + 1, 1);
  memcpy(f->text, text, len);
  f->len = len;
  return f;
}

// Lexes text (len bytes) into toks (up to max, EOF included); returns the count.
static int lex_all(const char *text, size_t len, Token *toks, int max) {
  Lexer lx;
  lex_init(&lx, mem_file(text, len));
  int n = 0;
  while (n < max) {
    toks[n] = lex_next(&lx);
    if (toks[n++].kind == TK_EOF)
      break;
  }
  return n;
}

static void test_tokens(void) {
  const char *src = "net enc(x: [1, 28]) -> [9] { conv2d(8, k=3) }\n  # comment \xce\xbc\nconst l = 1e-5";
  TokenKind want[] = {TK_NET, TK_IDENT, TK_LPAREN, TK_IDENT, TK_COLON, TK_LBRACK, TK_NUM, TK_COMMA, TK_NUM,
                      TK_RBRACK, TK_RPAREN, TK_ARROW, TK_LBRACK, TK_NUM, TK_RBRACK, TK_LBRACE, TK_IDENT,
                      TK_LPAREN, TK_NUM, TK_COMMA, TK_IDENT, TK_ASSIGN, TK_NUM, TK_RPAREN, TK_RBRACE,
                      TK_NEWLINE, TK_NEWLINE, TK_CONST, TK_IDENT, TK_ASSIGN, TK_NUM, TK_EOF};
  Token t[64];
  diag_reset();
  int n = lex_all(src, strlen(src), t, 64);
  int nwant = (int)(sizeof want / sizeof want[0]);
  CHECK(n == nwant);
  for (int i = 0; i < n && i < nwant; i++)
    CHECK(t[i].kind == want[i], "token %d: got %s, want %s", i, token_kind_str(t[i].kind),
          token_kind_str(want[i]));
  CHECK(diag_count() == 0);                 // UTF-8 in a comment is fine
  CHECK(!strcmp(t[1].str, "enc"));
  CHECK(t[1].loc.line == 1 && t[1].loc.col == 5 && t[1].loc.len == 3);
  CHECK(t[8].num == 28);
  CHECK(t[11].loc.len == 2);                // "->"
  CHECK(t[27].loc.line == 3 && t[27].loc.col == 1);
  CHECK(t[30].num == 1e-5);
}

static void test_numbers_and_keywords(void) {
  const char *src = "0 .5 3. 2.5e+3 1E2 netx input_ loss";
  Token t[16];
  diag_reset();
  lex_all(src, strlen(src), t, 16);
  CHECK(t[0].num == 0 && t[1].num == 0.5 && t[2].num == 3 && t[3].num == 2500 && t[4].num == 100);
  CHECK(t[5].kind == TK_IDENT && t[6].kind == TK_IDENT && t[7].kind == TK_LOSS);
  CHECK(diag_count() == 0);
}

static void test_bad_input(void) {
  Token t[16];
  // A run of non-ASCII bytes is one error; lexing goes on after it.
  diag_reset();
  int n = lex_all("a \x80\x81 b", 6, t, 16);
  CHECK(n == 3 && t[0].kind == TK_IDENT && t[1].kind == TK_IDENT && t[2].kind == TK_EOF);
  CHECK(diag_count() == 1);
  // A NUL inside the file is a bad byte, not the end.
  diag_reset();
  n = lex_all("a\0b", 3, t, 16);
  CHECK(n == 3 && t[1].kind == TK_IDENT && !strcmp(t[1].str, "b"));
  CHECK(diag_count() == 1);
  // "3x" is one invalid number, not a number and a name.
  diag_reset();
  n = lex_all("3x $", 4, t, 16);
  CHECK(n == 2 && t[0].kind == TK_NUM);
  CHECK(diag_count() == 2);
  // An unterminated string is reported once and gives a string without text.
  diag_reset();
  n = lex_all("import \"x.net\nnet", 17, t, 16);
  CHECK(n == 5 && t[1].kind == TK_STR && t[1].str == NULL && t[2].kind == TK_NEWLINE && t[3].kind == TK_NET);
  CHECK(diag_count() == 1);
  // Too large a number.
  diag_reset();
  lex_all("1e999", 5, t, 16);
  CHECK(t[0].kind == TK_NUM && diag_count() == 1);
}

int main(void) {
  test_tokens();
  test_numbers_and_keywords();
  test_bad_input();
  return t_finish("test_lex");
}
