// netc.h — the front end: files, diagnostics, lexer, parser, checker,
// lowering to IR, summary.  One section per file, as in chibicc.
//
// Pipeline (main.c):  load → lex+parse (lex.re, parse.c) → check (check.c)
//                     → lower (lower.c) → Graph (ir.h) → interp / emit.
//
// Compiler memory is allocated and never freed: netc is a short-lived
// process and the AST lives until it exits.
#ifndef NETC_H
#define NETC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ir.h"
#include "ops.h"

#ifndef NETC_VERSION
#define NETC_VERSION "0.1.0"
#endif

// ---- Front-end entry point (front.c) ----

// A `-D name=value` override from the command line.
typedef struct {
  const char *name;
  double value;
  const char *text;          // "latent=4", for messages
} Define;

// Parses "name=value" into d.  On failure prints
// "netc: error: -D ...: reason" and returns false (a usage error: exit 2).
bool define_parse(const char *arg, Define *d);

// Loads, parses, checks and lowers the model in path (with its imports),
// applying the -D overrides.  Returns the forward graph, or NULL after
// printing diagnostics; *status is then 1 (an error in the model, or a
// file that cannot be read) or 2 (a usage error: -D names no constant).
// On success *status is 0.  The graph has input/label/loss/exports,
// nforward = nnodes, batch and source_hash set; parameters are ordered
// trainable first, frozen after.
Graph *netc_compile(const char *path, const Define *defs, int ndefs, int *status);

typedef struct Unit Unit;
// The same, also returning the checked AST in *unit (NULL when the file
// cannot be read; set even when checking fails), for dumps and summary.
Graph *netc_compile_unit(const char *path, const Define *defs, int ndefs, Unit **unit, int *status);

// ---- Source files (front.c) ----

typedef struct File File;
struct File {
  const char *path;          // as given or as resolved against the importer
  char *text;                // NUL-terminated (the file may hold NULs too)
  size_t len;
  char *real;                // realpath(): each file is loaded once
  bool loading;              // being parsed: importing it again is a cycle
};

// ---- Diagnostics (diag.c) ----

typedef struct {
  File *file;
  const char *at;            // first byte of the culprit in file->text
  int len;                   // bytes underlined (>= 1)
  int line, col;             // 1-based; col counts bytes
} Loc;

// "path:line:col: error: msg", the source line, a caret line.  After
// DIAG_MAX_ERRORS errors netc gives up ("too many errors") and exits 1.
#define DIAG_MAX_ERRORS 20
void diag_error(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_note(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// An error without a source position: "netc: error: msg".
void diag_plain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int diag_count(void);        // errors so far
void diag_reset(void);       // before the next file on the command line
SrcLoc loc_src(Loc loc);     // the IR's SrcLoc for a front-end Loc
// An error at an IR node's location (autodiff, verification, code
// generation): the same format, source line and caret as diag_error when
// the file was loaded, else "path:line:col: error: msg".
void diag_error_src(SrcLoc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_register(File *f); // file_read: a loaded file, for diag_error_src

// ---- Lexer (lex.re) ----

typedef enum {
  TK_EOF, TK_NEWLINE, TK_IDENT, TK_NUM, TK_STR,
  // Punctuation.
  TK_LPAREN, TK_RPAREN, TK_LBRACK, TK_RBRACK, TK_LBRACE, TK_RBRACE,
  TK_COMMA, TK_COLON, TK_ASSIGN, TK_ARROW, TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH,
  // Keywords.
  TK_IMPORT, TK_CONST, TK_NET, TK_MODEL, TK_INPUT, TK_FREEZE, TK_LOSS, TK_EXPORT,
} TokenKind;

typedef struct {
  TokenKind kind;
  Loc loc;
  double num;                // TK_NUM
  const char *str;           // TK_IDENT, TK_STR: the text, NUL-terminated copy
                             // (NULL for an unterminated string, already reported)
} Token;

typedef struct {
  File *file;
  const char *p;             // next byte
  const char *line_start;
  int line;
} Lexer;

void lex_init(Lexer *lx, File *f);
// The next token; bad bytes are reported (diag_error) and skipped.
Token lex_next(Lexer *lx);
const char *token_kind_str(TokenKind k);   // "identifier", "'('", "'net'"

// ---- AST (parse.c) ----

typedef struct Expr Expr;
typedef struct Arg Arg;

typedef enum { E_NUM, E_NAME, E_CALL, E_NEG, E_BINARY, E_SHAPE } ExprKind;

struct Arg {
  Token key;                 // TK_IDENT for `key=value`, else kind TK_EOF
  Expr *val;
};

// What check.c learns about an expression.
typedef enum { V_ERROR, V_CONST, V_TENSOR, V_LABEL } ValueKind;

struct Expr {
  ExprKind kind;
  Token tok;                 // number, name, callee, operator, '['
  char op;                   // E_BINARY: + - * /
  Expr *lhs, *rhs;           // E_BINARY; E_NEG uses lhs
  Arg *args; int nargs;      // E_CALL
  Expr **dims; int ndims;    // E_SHAPE: [d, ...]
  int height;                // 1 + the tallest operand's (parse.c bounds it)
  // Set by check.c.
  ValueKind vk;
  double value;              // V_CONST
  Shape shape;               // V_TENSOR
  struct Net *net;           // E_CALL of a net
  const struct OpInfo *opi;  // E_CALL of a builtin op
  Attrs attr;                // evaluated attributes of a builtin call
  struct Stmt *bind;         // E_NAME of a model value
  // Nets as graphs and instances.
  Token label;               // `enc: encoder(x)`: TK_IDENT when labelled, else kind TK_EOF
  int local;                 // E_NAME inside a net: index into Net.locals; else -1
  const char *pname;         // E_CALL of a net or a layer op: the name prefixing its parameters
  Shape wshape, bshape;      // E_CALL of a layer op: its weight and bias shapes
};

typedef struct {
  Token tok;                 // '['
  Expr **dims; int ndims;
} ShapeLit;

// One element of a net line: `conv2d(8, k=3)`, `relu`, `trunk`, `enc: dense(9)`
// (chain form: a layer applied to the running value), or, as the first
// element of a line, a value: `x + h`, `block(h)`, `conv2d(h, 16, k=3)`.
typedef struct Layer {
  Token label;               // TK_IDENT when labelled, else kind TK_EOF
  Token name;
  bool has_args;
  Arg *args; int nargs;
  // Set by check.c.
  const struct OpInfo *opi;  // builtin op, or NULL
  struct Net *net;           // applied net, or NULL
  const char *pname;         // the name that prefixes its parameters ("conv1", "trunk")
  Attrs attr;
  Shape in, out;             // running shape before and after
  Shape wshape, bshape;      // weight and bias shapes when it has parameters
  int64_t nparams;           // weights + bias of this layer, or of the net applied
  bool ok;                   // shapes known (no error in or before it)
  // Nets as graphs: the element as parsed, and its line.
  Expr *expr;                // the element as an expression (chain layers too)
  bool line_start;           // the first element of its line
  Token bind;                // line_start: `NAME =` binds the line's value (TK_IDENT), else TK_EOF
  // Set by check.c.
  bool value;                // expression form: the line starts from expr's value
  int bind_local;            // line_start with a bind: its index in Net.locals, else -1
  bool tied;                 // a net applied under a label already used for it: shares its parameters
} Layer;

// A value a net line can name: the net's inputs, then every `NAME =`.
typedef struct {
  Token name;
  Shape shape;
  bool ok;                   // shape known
} Local;

// Evaluation state of a constant or a net: checked on first use, and a
// use during its own evaluation is a cycle.
typedef enum { EVAL_TODO, EVAL_BUSY, EVAL_DONE, EVAL_FAILED } EvalState;

typedef struct Net {
  Token name;
  Token param;               // the (first) input's name
  ShapeLit in_lit, out_lit;  // in_lit: the first input's
  Token *params; ShapeLit *in_lits; int nin;   // every input: `net f(a: [..], b: [..])`
  Layer *layers; int nlayers;
  File *file;
  // Set by check.c.
  Shape in, out;             // in: the first input's shape
  Shape *ins;                // every input's shape
  Local *locals; int nlocals;   // inputs first, then the bound names in line order
  bool shapes_ok;            // in and out evaluated
  EvalState state;           // TODO, BUSY (checking: recursion), DONE
  int64_t nparams;
  int64_t size;              // layers once every applied net is expanded
  bool frozen;               // named by the model's `freeze`
  bool used;                 // reachable from the model
} Net;

typedef struct Const {
  Token name;
  Expr *val;
  const Define *def;         // the -D that overrides it, or NULL
  double value;
  EvalState state;           // TODO, BUSY (evaluating), DONE, FAILED
} Const;

typedef enum { S_INPUT, S_LET, S_FREEZE, S_LOSS, S_EXPORT } StmtKind;

typedef struct Stmt {
  StmtKind kind;
  Token tok;                 // keyword, or the bound name for S_LET
  Token name;                // S_INPUT, S_LET
  Token type;                // S_INPUT: image | label, or kind TK_LBRACK for a shape
  ShapeLit in_lit;           // S_INPUT: `input t: [dims]`
  Expr *classes;             // S_INPUT: K of `label(K)`, or NULL
  Expr *expr;                // S_LET, S_LOSS
  Token *names; int nnames;  // S_FREEZE, S_EXPORT
  int line_order;            // position in the model
  bool broken;               // a syntax error cut it short (reported): its
                             // name is bound, its loss counted, nothing checked
  // Set by check.c / lower.c.
  ValueKind vk;              // S_INPUT, S_LET: what the name holds
  Shape shape;
  int node;                  // lower.c: the IR node bound to the name
  int nclasses;              // S_INPUT label: K (declared, or inferred from nll), 0 if unknown
  Loc classes_from;          // where K was inferred (the nll), line 0 if declared
} Stmt;

typedef struct {
  Token name;
  Stmt *stmts; int nstmts;
  File *file;
} Model;

typedef struct {
  Token tok;                 // the string
  File *file;                // the importing file
} Import;

// Everything loaded for one model: the main file and its imports.
struct Unit {
  File **files; int nfiles;  // load order: main file first
  Const *consts; int nconsts;
  Net *nets; int nnets;
  Model *model;              // the main file's model, or NULL
  Model **other_models; int nother;  // models of imported files (ignored)
  const Define *defs; int ndefs;
  uint64_t source_hash;
  File *stack[32]; int nstack;  // files being parsed, for import cycles
};

// Reads path (relative to the current directory) into a File (util.c); on failure
// reports at `from` (an import) or plainly, and returns NULL.
File *file_read(const char *path, const Loc *from);

// Parses f into u, loading its imports (recursively).  Errors are
// reported; parsing recovers at the next line.
void parse_file(Unit *u, File *f);

// ---- Checker (check.c) ----

// The builtin ops of the language, their attributes and shape rules are
// the op table's (ops.h: OpInfo, op_lookup).

// Resolves names, evaluates constants and infers every shape; reports
// every error it finds.  Returns true when the unit is error-free.
bool check_unit(Unit *u);
// The value of a constant (after check_unit), or NAN when undefined.
double unit_const(const Unit *u, const char *name);
Net *unit_net(const Unit *u, const char *name);
Const *unit_const_def(const Unit *u, const char *name);

// ---- Lowering (lower.c) ----

// The checked unit's model as a forward Graph (see netc_compile).
Graph *lower_unit(Unit *u);
// Net instance `name` of the checked unit's model ("decoder", "enc",
// "encoder2": a net the model applies, by its instance name) alone, for
// inference: one OP_INPUT per net input (attr.index), its parameters under
// the names the model's graph gives them, the output as export "out", no
// loss.  NULL when the model applies no such instance.
Graph *lower_net_alone(Unit *u, const char *name);

// ---- Dumps and summary (dump.c, summary.c) ----

void dump_ast(FILE *out, const Unit *u);
void summary_print(FILE *out, const Unit *u, const Graph *g);

// ---- Front-end driver pieces (front.c) ----

// Loads and parses path with its imports; NULL if the file cannot be read.
Unit *unit_load(const char *path, const Define *defs, int ndefs);

#endif
