// lex.re — the lexer, generated into lex.c by re2c (-W -Werror).
//
// The file is a NUL-terminated buffer; a NUL before its end is a bad byte
// like any other.  Newlines are tokens: a net line and a model statement
// end at one (the parser skips them inside parentheses).  Bad bytes are
// reported and skipped, so one stray character costs one diagnostic.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netc.h"

void lex_init(Lexer *lx, File *f) {
  lx->file = f;
  lx->p = f->text;
  lx->line_start = f->text;
  lx->line = 1;
}

static Loc loc_at(Lexer *lx, const char *start, const char *end) {
  size_t len = (size_t)(end - start);
  return (Loc){.file = lx->file, .at = start, .len = len > 1000000 ? 1000000 : (int)len,
               .line = lx->line, .col = (int)(start - lx->line_start) + 1};
}

static const struct { const char *word; TokenKind kind; } keywords[] = {
  {"import", TK_IMPORT}, {"const", TK_CONST}, {"net", TK_NET}, {"model", TK_MODEL},
  {"input", TK_INPUT}, {"freeze", TK_FREEZE}, {"loss", TK_LOSS}, {"export", TK_EXPORT},
};

static char *copy(const char *b, const char *e) {
  size_t n = (size_t)(e - b);
  char *s = malloc(n + 1);
  if (!s) {
    fprintf(stderr, "netc: out of memory\n");
    exit(2);
  }
  memcpy(s, b, n);
  s[n] = 0;
  return s;
}

static Token make(Lexer *lx, TokenKind kind, const char *start) {
  return (Token){.kind = kind, .loc = loc_at(lx, start, lx->p)};
}

static const char *show_byte(unsigned char c, char *buf) {
  if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
    sprintf(buf, "%c", c);
  else
    sprintf(buf, "\\x%02x", c);
  return buf;
}

Token lex_next(Lexer *lx) {
  const char *end = lx->file->text + lx->file->len;
  for (;;) {
    const char *start = lx->p;
    const unsigned char *YYCURSOR = (const unsigned char *)lx->p, *YYMARKER;
    char buf[8];
    (void)YYMARKER;
#define DONE (lx->p = (const char *)YYCURSOR)
    /*!re2c
      re2c:define:YYCTYPE = "unsigned char";
      re2c:yyfill:enable = 0;

      digit = [0-9];
      ident = [a-zA-Z_][a-zA-Z0-9_]*;
      number = (digit+ ("." digit*)? | "." digit+) ([eE] [+-]? digit+)?;

      "\x00" {
        if (start >= end) {
          lx->p = start;
          return make(lx, TK_EOF, start);
        }
        DONE;
        diag_error(loc_at(lx, start, lx->p), "unexpected character '\\x00'");
        continue;
      }
      [ \t\r\f\v]+ { DONE; continue; }
      "#" [^\n\x00]* { DONE; continue; }
      "\n" {
        DONE;
        Token t = make(lx, TK_NEWLINE, start);
        lx->line++;
        lx->line_start = lx->p;
        return t;
      }
      ident {
        DONE;
        Token t = make(lx, TK_IDENT, start);
        t.str = copy(start, lx->p);
        for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
          if (!strcmp(t.str, keywords[i].word))
            t.kind = keywords[i].kind;
        return t;
      }
      number {
        DONE;
        Token t = make(lx, TK_NUM, start);
        char *s = copy(start, lx->p);
        t.num = strtod(s, NULL);
        if (!isfinite(t.num)) {
          diag_error(t.loc, "number '%s' is too large", s);
          t.num = 0;
        }
        free(s);
        return t;
      }
      digit [a-zA-Z0-9_.]* {
        DONE;
        Token t = make(lx, TK_NUM, start);
        diag_error(t.loc, "invalid number '%.*s'", t.loc.len > 40 ? 40 : t.loc.len, start);
        t.num = 0;
        return t;
      }
      ["] [^"\n\x00]* ["] {
        DONE;
        Token t = make(lx, TK_STR, start);
        t.str = copy(start + 1, lx->p - 1);
        return t;
      }
      ["] {
        DONE;
        // The rest of the line is the string's text.  The token has no
        // text (str NULL), so the parser does not report it again.
        while (lx->p < end && *lx->p != '\n')
          lx->p++;
        Token t = make(lx, TK_STR, start);
        diag_error(loc_at(lx, start, start + 1), "unterminated string");
        return t;
      }
      "("  { DONE; return make(lx, TK_LPAREN, start); }
      ")"  { DONE; return make(lx, TK_RPAREN, start); }
      "["  { DONE; return make(lx, TK_LBRACK, start); }
      "]"  { DONE; return make(lx, TK_RBRACK, start); }
      "{"  { DONE; return make(lx, TK_LBRACE, start); }
      "}"  { DONE; return make(lx, TK_RBRACE, start); }
      ","  { DONE; return make(lx, TK_COMMA, start); }
      ":"  { DONE; return make(lx, TK_COLON, start); }
      "="  { DONE; return make(lx, TK_ASSIGN, start); }
      "->" { DONE; return make(lx, TK_ARROW, start); }
      "+"  { DONE; return make(lx, TK_PLUS, start); }
      "-"  { DONE; return make(lx, TK_MINUS, start); }
      "*"  { DONE; return make(lx, TK_STAR, start); }
      "/"  { DONE; return make(lx, TK_SLASH, start); }
      [\x80-\xff]+ {
        // One diagnostic for a run of non-ASCII bytes (a UTF-8 character,
        // or binary garbage).
        DONE;
        diag_error(loc_at(lx, start, lx->p),
                   "unexpected character '%s' (only comments may hold non-ASCII text)",
                   show_byte((unsigned char)*start, buf));
        continue;
      }
      * {
        DONE;
        diag_error(loc_at(lx, start, lx->p), "unexpected character '%s'",
                   show_byte((unsigned char)*start, buf));
        continue;
      }
    */
#undef DONE
  }
}

const char *token_kind_str(TokenKind k) {
  static const char *names[] = {
    [TK_EOF] = "end of file", [TK_NEWLINE] = "end of line", [TK_IDENT] = "a name",
    [TK_NUM] = "a number", [TK_STR] = "a string",
    [TK_LPAREN] = "'('", [TK_RPAREN] = "')'", [TK_LBRACK] = "'['", [TK_RBRACK] = "']'",
    [TK_LBRACE] = "'{'", [TK_RBRACE] = "'}'", [TK_COMMA] = "','", [TK_COLON] = "':'",
    [TK_ASSIGN] = "'='", [TK_ARROW] = "'->'", [TK_PLUS] = "'+'", [TK_MINUS] = "'-'",
    [TK_STAR] = "'*'", [TK_SLASH] = "'/'",
    [TK_IMPORT] = "'import'", [TK_CONST] = "'const'", [TK_NET] = "'net'",
    [TK_MODEL] = "'model'", [TK_INPUT] = "'input'", [TK_FREEZE] = "'freeze'",
    [TK_LOSS] = "'loss'", [TK_EXPORT] = "'export'",
  };
  return names[k];
}
