/**
 * Which AWS API actions a Lambda entry point can send, derived from the code rather than from a hand-kept list.
 *
 * Every handler builds the same Runtime (lib/runtime/runtime.ts), so the bundle's import graph is the same for all
 * five and says nothing about what one of them does. Instead this walks the *call* graph with the TypeScript checker,
 * starting at the entry file: each identifier in a reached body is resolved to its declaration and that declaration is
 * reached in turn. It is conservative where it cannot know:
 * - a nested function or callback in a reached body is reached (it may be called);
 * - a call through an interface member reaches that member of every project class whose instance type is assignable
 *   to the interface (the implementations the call could dispatch to);
 * - `new C()` reaches C's constructor and field initialisers only; its methods are reached when something calls them.
 * What it collects: `new XxxCommand(...)` and `paginateXxx(...)` whose declaration lives in an `@aws-sdk/*` package.
 * A command constructed but never sent still counts; the command name is the operation, so the IAM action follows
 * from the package (see actionsFor).
 */
import ts from 'typescript';
import { fileURLToPath } from 'node:url';

/** SDK client package (under @aws-sdk/) -> IAM service prefix (Service Authorization Reference). */
export const SERVICE_PREFIX: Record<string, string> = {
  'client-elastic-load-balancing-v2': 'elasticloadbalancing',
  'client-ec2': 'ec2',
  'client-dynamodb': 'dynamodb',
  'lib-dynamodb': 'dynamodb',
  'client-dynamodb-streams': 'dynamodb',
  'client-sqs': 'sqs',
  'client-ssm': 'ssm',
  'client-s3': 's3',
  'client-eventbridge': 'events',
  'client-auto-scaling': 'autoscaling',
  'client-sts': 'sts',
  'client-eks': 'eks',
  'client-secrets-manager': 'secretsmanager',
};

/**
 * The document client's commands (lib-dynamodb) are the item operations under other names. A transaction has no IAM
 * action of its own: DynamoDB authorises TransactWriteItems per contained item operation (Put -> PutItem, Update ->
 * UpdateItem, Delete -> DeleteItem, ConditionCheck -> ConditionCheckItem) and TransactGetItems as GetItem, so a
 * transaction stands for every item action it may contain.
 */
const DOCUMENT_CLIENT: Record<string, readonly string[]> = {
  Put: ['PutItem'],
  Get: ['GetItem'],
  Update: ['UpdateItem'],
  Delete: ['DeleteItem'],
  Query: ['Query'],
  Scan: ['Scan'],
  BatchGet: ['BatchGetItem'],
  BatchWrite: ['BatchWriteItem'],
  TransactWrite: ['PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'],
  TransactGet: ['GetItem'],
};
const LOW_LEVEL_TRANSACTIONS: Record<string, readonly string[]> = {
  TransactWriteItems: DOCUMENT_CLIENT.TransactWrite!,
  TransactGetItems: DOCUMENT_CLIENT.TransactGet!,
};

/**
 * IAM actions for one SDK call site: `kind` is 'command' for `new <Op>Command(...)` and 'paginate' for
 * `paginate<Op>(...)` (a paginator sends <Op> repeatedly). Throws for a package without a known prefix, so a new
 * client cannot slip past the comparison.
 */
export function actionsFor(pkg: string, kind: 'command' | 'paginate', name: string): string[] {
  const prefix = SERVICE_PREFIX[pkg];
  if (!prefix) throw new Error(`no IAM service prefix known for @aws-sdk/${pkg} (add it to SERVICE_PREFIX)`);
  const op = kind === 'command' ? name.replace(/Command$/, '') : name.replace(/^paginate/, '');
  if (pkg === 'lib-dynamodb') {
    const items = DOCUMENT_CLIENT[op];
    if (!items) throw new Error(`no DynamoDB item actions known for document-client ${name}`);
    return items.map((a) => `dynamodb:${a}`);
  }
  if (prefix === 'dynamodb' && LOW_LEVEL_TRANSACTIONS[op])
    return LOW_LEVEL_TRANSACTIONS[op].map((a) => `dynamodb:${a}`);
  return [`${prefix}:${op}`];
}

export interface SdkCall {
  action: string;
  /** Where the command is constructed (repo-relative file:line), for the failure message. */
  at: string;
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SDK_PATH = /\/node_modules\/@aws-sdk\/([^/]+)\//;

/** One program over the given entry files (the repo's tsconfig options), analysed entry by entry. */
export function sdkCallsByEntry(entries: readonly string[]): Map<string, SdkCall[]> {
  const cfgPath = ts.findConfigFile(REPO, ts.sys.fileExists, 'tsconfig.json')!;
  const cfg = ts.parseJsonConfigFileContent(ts.readConfigFile(cfgPath, ts.sys.readFile).config, ts.sys, REPO);
  const program = ts.createProgram({ rootNames: [...entries], options: cfg.options });
  const checker = program.getTypeChecker();
  const isProject = (sf: ts.SourceFile) => !sf.isDeclarationFile && !sf.fileName.includes('/node_modules/');
  const classes = program
    .getSourceFiles()
    .filter(isProject)
    .flatMap((sf) => {
      const out: ts.ClassLikeDeclaration[] = [];
      const visit = (n: ts.Node) => {
        if (ts.isClassDeclaration(n) || ts.isClassExpression(n)) out.push(n);
        ts.forEachChild(n, visit);
      };
      visit(sf);
      return out;
    });

  const result = new Map<string, SdkCall[]>();
  for (const entry of entries) {
    const sf = program.getSourceFile(entry);
    if (!sf) throw new Error(`entry ${entry} is not in the program`);
    result.set(entry, analyse(sf));
  }
  return result;

  function analyse(entry: ts.SourceFile): SdkCall[] {
    const calls: SdkCall[] = [];
    const reached = new Set<ts.Node>();
    const touchedFiles = new Set<ts.SourceFile>();
    const queue: ts.Node[] = [];
    const reach = (n: ts.Node | undefined) => {
      if (n && !reached.has(n)) {
        reached.add(n);
        queue.push(n);
      }
    };
    const touchFile = (f: ts.SourceFile) => {
      if (touchedFiles.has(f) || !isProject(f)) return;
      touchedFiles.add(f);
      // Module-level code runs on import: side-effect statements and initialisers that are not functions.
      for (const st of f.statements) {
        if (ts.isExpressionStatement(st)) reach(st);
        if (ts.isVariableStatement(st))
          for (const d of st.declarationList.declarations)
            if (d.initializer && !ts.isArrowFunction(d.initializer) && !ts.isFunctionExpression(d.initializer))
              reach(d.initializer);
      }
    };
    touchFile(entry);
    entry.statements.forEach(reach);

    const implementations = (member: ts.TypeElement): ts.Node[] => {
      const name = member.name && ts.isIdentifier(member.name) ? member.name.text : undefined;
      if (!name) return [];
      const iface = checker.getTypeAtLocation(member.parent);
      const out: ts.Node[] = [];
      for (const c of classes) {
        const m = c.members.find((x) => x.name && ts.isIdentifier(x.name) && x.name.text === name);
        if (!m) continue;
        const instance = checker.getTypeAtLocation(c);
        if (checker.isTypeAssignableTo(instance, iface)) out.push(m);
      }
      return out;
    };

    const reachDeclaration = (d: ts.Declaration) => {
      const f = d.getSourceFile();
      if (!isProject(f)) return;
      touchFile(f);
      if (ts.isClassDeclaration(d) || ts.isClassExpression(d)) {
        // Construction: the constructor, field initialisers, static blocks, and the base class's construction.
        for (const m of d.members)
          if (ts.isConstructorDeclaration(m) || ts.isPropertyDeclaration(m) || ts.isClassStaticBlockDeclaration(m))
            reach(m);
        for (const h of d.heritageClauses ?? [])
          if (h.token === ts.SyntaxKind.ExtendsKeyword) for (const t of h.types) reach(t.expression);
        return;
      }
      if (ts.isMethodSignature(d) || ts.isPropertySignature(d)) {
        implementations(d).forEach(reach);
        return;
      }
      if (
        ts.isFunctionDeclaration(d) ||
        ts.isMethodDeclaration(d) ||
        ts.isGetAccessorDeclaration(d) ||
        ts.isSetAccessorDeclaration(d) ||
        ts.isConstructorDeclaration(d) ||
        ts.isPropertyDeclaration(d) ||
        ts.isVariableDeclaration(d) ||
        ts.isPropertyAssignment(d) ||
        ts.isShorthandPropertyAssignment(d) ||
        ts.isArrowFunction(d) ||
        ts.isFunctionExpression(d)
      ) {
        reach(d);
        // An abstract or overridden method dispatches to subclasses too.
        if (ts.isMethodDeclaration(d) && ts.isClassLike(d.parent) && d.name && ts.isIdentifier(d.name)) {
          const name = d.name.text;
          const base = checker.getTypeAtLocation(d.parent);
          for (const c of classes) {
            if (c === d.parent) continue;
            const m = c.members.find((x) => x.name && ts.isIdentifier(x.name) && x.name.text === name);
            if (m && checker.isTypeAssignableTo(checker.getTypeAtLocation(c), base)) reach(m);
          }
        }
      }
    };

    const record = (id: ts.Identifier, decl: ts.Declaration) => {
      const pkg = SDK_PATH.exec(decl.getSourceFile().fileName.replace(/\\/g, '/'))?.[1];
      if (!pkg) return;
      const name = id.text;
      const parent = id.parent;
      let kind: 'command' | 'paginate' | undefined;
      if (/Command$/.test(name) && ts.isNewExpression(parent) && parent.expression === id) kind = 'command';
      if (/^paginate[A-Z]/.test(name) && ts.isCallExpression(parent) && parent.expression === id) kind = 'paginate';
      if (!kind) return;
      const src = id.getSourceFile();
      const line = src.getLineAndCharacterOfPosition(id.getStart()).line + 1;
      const at = `${src.fileName.slice(REPO.length)}:${line}`;
      for (const action of actionsFor(pkg, kind, name)) calls.push({ action, at });
    };

    const walk = (n: ts.Node): void => {
      if (ts.isTypeNode(n) || ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) return;
      if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) return;
      if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
        // import('./x.js'): the module's load-time code runs; its exports are reached when used.
        const spec = n.arguments[0];
        if (spec && ts.isStringLiteralLike(spec)) {
          const sym = checker.getSymbolAtLocation(spec);
          const decl = sym?.valueDeclaration ?? sym?.declarations?.[0];
          if (decl && ts.isSourceFile(decl)) touchFile(decl);
        }
      }
      const parent = n.parent as ts.Node & { name?: ts.Node };
      // A declaration's own name (an object literal's key, a parameter, a member) is not a use of anything.
      const isName =
        parent?.name === n &&
        (ts.isPropertyAssignment(parent) ||
          ts.isMethodDeclaration(parent) ||
          ts.isPropertyDeclaration(parent) ||
          ts.isParameter(parent) ||
          ts.isVariableDeclaration(parent) ||
          ts.isBindingElement(parent) ||
          ts.isFunctionDeclaration(parent) ||
          ts.isClassDeclaration(parent) ||
          ts.isGetAccessorDeclaration(parent) ||
          ts.isSetAccessorDeclaration(parent));
      if ((ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) && !isName) {
        let sym = checker.getSymbolAtLocation(n);
        if (!sym && ts.isShorthandPropertyAssignment(n.parent))
          sym = checker.getShorthandAssignmentValueSymbol(n.parent);
        if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
        for (const d of sym?.declarations ?? []) {
          if (ts.isIdentifier(n)) record(n, d);
          reachDeclaration(d);
        }
      }
      ts.forEachChild(n, walk);
    };

    while (queue.length > 0) walk(queue.pop()!);
    return calls;
  }
}
