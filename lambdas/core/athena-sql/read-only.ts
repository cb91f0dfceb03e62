import type { ParseTree } from 'antlr4ng';
import * as T from 'dt-sql-parser/dist/lib/trino/TrinoSqlParser.js';
import { TranslationError } from './functions.js';
import { parseHiveStatement, parseStatement } from './parse.js';
import { identifierParts } from './sql-text.js';

/**
 * The console's guard on Athena, where the statement runs as written: one query, `SHOW` or
 * `DESCRIBE`, naming only tables of the environment's database. Athena itself would run DDL,
 * `INSERT`, `UNLOAD` or another database's tables with the user's credentials; the console
 * over HTTP must not, whatever reaches it.
 */

/** The statements the console runs. */
const READ_ONLY: readonly (abstract new (...args: never[]) => T.StatementContext)[] = [T.StatementDefaultContext, T.ShowTablesContext, T.ShowColumnsContext, T.ShowCreateTableContext, T.ShowCreateViewContext];

function checkName(parts: readonly string[], database: string): void {
  const lower = parts.map((p) => p.toLowerCase());
  const qualifier = lower.slice(0, -1);
  if (qualifier.length === 0) return;
  const [catalog, schema] = qualifier.length === 2 ? qualifier : [null, qualifier[0]];
  if (catalog !== null && catalog !== 'awsdatacatalog') throw new TranslationError(`the console reads only the environment's tables; catalog ${catalog} is not one of them`);
  if (schema !== database) throw new TranslationError(`the console reads only the environment's tables, in database ${database}; ${schema} is another database`);
}

function walk(node: ParseTree, database: string): void {
  if (node instanceof T.TableFunctionInvocationContext) throw new TranslationError('the console runs no table function (TABLE(…)); query the tables');
  if (node instanceof T.TableNameContext) checkName(identifierParts(node.tableOrViewName()), database);
  // `TABLE name`, Trino's short form of SELECT * FROM name.
  if (node instanceof T.TableContext) checkName(identifierParts(node.tableRef()), database);
  for (let i = 0; i < node.getChildCount(); i++) walk(node.getChild(i) as ParseTree, database);
}

/**
 * Checks that `sql` only reads the tables of `database`.
 * @throws SqlSyntaxError when it does not parse, TranslationError when it would do more than read
 */
export function checkReadOnly(sql: string, database: string): void {
  const hive = parseHiveStatement(sql);
  if (hive?.kind === 'show-databases') throw new TranslationError(`the console lists only this environment's tables (SHOW TABLES); the other databases of the account are not its to show`);
  if (hive) {
    if (hive.kind === 'show-partitions') checkName(hive.table, database);
    if (hive.kind === 'show-tables' && hive.database !== null) checkName([hive.database, ''], database);
    return;
  }
  const statement = parseStatement(sql);
  if (statement instanceof T.ShowSchemasContext) throw new TranslationError(`the console lists only this environment's tables (SHOW TABLES); the other databases of the account are not its to show`);
  if (!READ_ONLY.some((kind) => statement instanceof kind)) {
    throw new TranslationError(`the console runs only queries (SELECT, WITH, VALUES), SHOW and DESCRIBE; ${statement.start?.text?.toUpperCase() ?? 'this statement'} is not one`);
  }
  if (statement instanceof T.StatementDefaultContext && statement.rootQuery().withFunction()) throw new TranslationError('the console defines no function (WITH FUNCTION); query the tables');
  if (statement instanceof T.ShowTablesContext && statement.schemaRef()) checkName([...identifierParts(statement.schemaRef() as ParseTree), ''], database);
  if (statement instanceof T.ShowColumnsContext) checkName(identifierParts(statement.tableOrViewName()), database);
  if (statement instanceof T.ShowCreateTableContext) checkName(identifierParts(statement.tableRef()), database);
  if (statement instanceof T.ShowCreateViewContext) checkName(identifierParts(statement.viewRef()), database);
  walk(statement, database);
}
