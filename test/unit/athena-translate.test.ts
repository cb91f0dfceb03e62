import { describe, expect, it } from 'vitest';
import { type Catalog, translateAthenaSql } from '../../lambdas/core/athena-sql/translate.js';
import { SqlSyntaxError, parseHiveStatement, parseStatement } from '../../lambdas/core/athena-sql/parse.js';
import { TranslationError, jodaToStrftime, mysqlToStrftime } from '../../lambdas/core/athena-sql/functions.js';
import { fromDuckType, hiveTypeName, trinoTypeName, unify, decimal, INTEGER, VARCHAR, DOUBLE, UNKNOWN, arithmeticType, decimalLiteral } from '../../lambdas/core/athena-sql/types.js';
import { canonicalJson } from '../../lambdas/core/json-text.js';

/**
 * The translator on its own, without an engine: the text it writes for the forms whose
 * meaning differs, and the refusals, each naming the form and what to do.
 */
const catalog: Catalog = {
  database: 'inference_tables_dev',
  tables: new Map([
    ['iris_payload', new Map([['status_code', INTEGER], ['request', VARCHAR], ['request_metadata', fromDuckType('MAP(VARCHAR, VARCHAR)')], ['logging_error_codes', fromDuckType('VARCHAR[]')], ['date', VARCHAR]])],
    ['iris_unpacked', new Map([['date', fromDuckType('DATE')], ['x', DOUBLE], ['s', fromDuckType('STRUCT("a" BIGINT, "b score" DOUBLE)')]])],
  ]),
  pseudoColumns: (t) => (t === 'iris_payload' ? 'iris_payload$path' : null),
};
const sql = (text: string): string => {
  const t = translateAthenaSql(text, catalog);
  if (t.kind !== 'query') throw new Error(`not a query: ${t.kind}`);
  return t.sql;
};
const refused = (text: string) => expect(() => translateAthenaSql(text, catalog));

describe('translation', () => {
  it('writes division by the operands’ types', () => {
    expect(sql('SELECT 7 / 2 AS a')).toContain('athena_divide(7, 2)');
    expect(sql('SELECT x / 2 AS a FROM iris_unpacked')).toContain('athena_double_divide("x", 2)');
    expect(sql('SELECT 2.0 / 3 AS a')).toMatch(/CAST\(athena_decimal_divide\(2\.0, 3, 1\) AS DECIMAL\(\d+, 1\)\)/);
    expect(sql('SELECT try(7 / 0) AS a')).toContain('athena_divide_or_null');
    expect(sql('SELECT 7 % 2 AS a')).toContain('athena_mod(7, 2)');
  });

  it('qualifies names by the environment’s database and catalog, and refuses others', () => {
    expect(sql('SELECT count(*) AS n FROM awsdatacatalog.inference_tables_dev.iris_payload')).toContain('FROM "iris_payload"');
    refused('SELECT 1 FROM other_db.iris_payload').toThrow(/database other_db does not exist here: this environment's tables are in inference_tables_dev/);
    refused('SELECT 1 FROM hive.inference_tables_dev.iris_payload').toThrow(/catalog hive does not exist/);
    refused('SELECT 1 FROM nope').toThrow(/table inference_tables_dev.nope does not exist; the tables are iris_payload, iris_unpacked/);
    refused('SELECT 1 FROM information_schema.routines').toThrow(/information_schema.routines is not kept locally/);
  });

  it('reads row fields by name, and refuses an unknown column when every table is known', () => {
    expect(sql('SELECT s.a AS a, u.s."b score" AS b FROM iris_unpacked u')).toContain('"u"."s"."b score"');
    refused('SELECT nope FROM iris_unpacked').toThrow(/Column 'nope' cannot be resolved/);
  });

  it('refuses the pseudo-columns of tables not read from their files', () => {
    refused('SELECT "$path" FROM iris_unpacked').toThrow(/iris_unpacked has no "\$path" locally/);
    expect(sql('SELECT "$path" AS p FROM iris_payload')).toContain('"iris_payload$path" AS "iris_payload"');
  });

  it('writes each UNNEST by what it unnests', () => {
    expect(sql('SELECT k, v FROM iris_payload CROSS JOIN UNNEST(request_metadata) AS t(k, v)')).toContain('unnest(map_keys("request_metadata")), unnest(map_values("request_metadata"))');
    expect(sql('SELECT c, n FROM iris_payload CROSS JOIN UNNEST(logging_error_codes) WITH ORDINALITY AS t(c, n)')).toContain('unnest(range(1, greatest(coalesce(len("logging_error_codes"), 0), 0) + 1))');
    refused('SELECT a FROM iris_payload CROSS JOIN UNNEST(request_metadata) AS t(a)').toThrow(/UNNEST yields 2 columns here, but the alias names 1/);
    refused(`SELECT a FROM iris_payload CROSS JOIN UNNEST(CAST(json_parse(request) AS ARRAY(ROW(a BIGINT))), logging_error_codes) AS t(a, c)`).toThrow(/UNNEST them one by one/);
  });

  it('refuses what the local engine cannot run, by name, saying whether Athena runs it', () => {
    refused('SELECT bing_tile(1, 2, 3)').toThrow(/function bing_tile runs on Athena but not in the local engine/);
    refused('SELECT read_csv(\'/etc/passwd\')').toThrow(/function read_csv is not an Athena function/);
    refused('SELECT split(\'a,b\', \',\', 2)').toThrow(/split takes 2 arguments, not 3/);
    refused('SELECT array_sort(ARRAY[1], (a, b) -> 0)').toThrow(/array_sort with a comparator runs on Athena/);
    refused("SELECT date_add('fortnight', 1, current_date)").toThrow(/date_add: unit 'fortnight' must be a literal/);
    refused("SELECT date_add('hour', 1, current_date)").toThrow(/'hour' is not a valid DATE field/);
    refused("SELECT date_trunc('decade', current_date)").toThrow(/date_trunc: unit 'decade'/);
    refused("SELECT date_format(current_date, request) FROM iris_payload").toThrow(/the format must be a string literal/);
    refused("SELECT format_datetime(TIMESTAMP '2026-01-01 00:00:00 America/New_York', 'HH:mm Z')").toThrow(/zone letters of a value in America\/New_York/);
    refused("SELECT to_iso8601(TIMESTAMP '2026-01-01 00:00:00 America/New_York')").toThrow(/to_iso8601: the offset/);
    refused("SELECT timezone_hour(current_date)").toThrow(/timezone_hour takes a timestamp with time zone/);
    refused("SELECT with_timezone(TIMESTAMP '2026-01-01 00:00:00', request) FROM iris_payload").toThrow(/with_timezone: the zone must be a literal/);
    refused("SELECT current_timestamp AT TIME ZONE INTERVAL '1' HOUR").toThrow(/AT TIME ZONE takes a zone name/);
    refused('SELECT EXTRACT(TIMEZONE_HOUR FROM current_timestamp)').toThrow(/EXTRACT\(TIMEZONE_HOUR FROM …\) is not supported locally/);
    refused("SELECT TIME '12:00:00' + INTERVAL '1' HOUR, GEOMETRY 'POINT (1 2)'").toThrow(/the literal GEOMETRY/);
    refused('SELECT x -> x').toThrow(/a lambda is only taken by the array and map functions/);
    refused('SELECT transform(ARRAY[1], 2)').toThrow(/transform: argument 2 must be a lambda/);
    refused('SELECT transform(ARRAY[1], (a, b) -> a)').toThrow(/the lambda takes 1 parameter, not 2/);
    refused('SELECT reduce(ARRAY[1], 0, (s, x) -> s + x)').toThrow(/reduce takes 4 arguments, not 3/);
    refused("SELECT date_format(current_date, '%D')").toThrow(/%D not supported/);
    refused("SELECT format_datetime(current_date, 'yyyy G')").toThrow(/pattern letter 'G' is not supported locally/);
    refused('INSERT INTO iris_payload SELECT * FROM iris_payload').toThrow(/INSERT statements run only on Athena/);
    refused('SELECT count(*) AS a, 1 AS a FROM iris_payload').toThrow(/two columns named a/);
  });

  it('writes the lambda functions with their parameters renamed', () => {
    expect(sql('SELECT reduce(ARRAY[1, 2], 0, (s, x) -> s + x, s -> s * 10) AS r')).toMatch(/list_transform\(\[list_reduce\(\[1, 2\], \(lp1_0, lp1_1\) -> \(lp1_0 \+ lp1_1\), 0\)\], lp1_2 -> \(lp1_2 \* 10\)\)\[1\]/);
    expect(sql('SELECT transform_keys(request_metadata, (k, v) -> upper(k)) AS m FROM iris_payload')).toContain("map_from_entries(list_transform(map_entries(\"request_metadata\"), lp1_0 -> {'key': upper(lp1_0.key), 'value': lp1_0.value}))");
    expect(sql('SELECT zip_with(ARRAY[1], ARRAY[2], (a, b) -> a + b) AS z')).toContain('list_transform(range(1, greatest(len([1]), len([2])) + 1)');
    expect(sql('SELECT none_match(logging_error_codes, c -> c = \'X\') AS n FROM iris_payload')).toContain('(NOT (CASE WHEN');
  });

  it('writes TABLESAMPLE, OFFSET before LIMIT, FETCH FIRST and the Hive statements', () => {
    expect(sql('SELECT count(*) AS n FROM iris_payload TABLESAMPLE SYSTEM (10)')).toContain('TABLESAMPLE 10% (system)');
    expect(sql('SELECT status_code FROM iris_payload ORDER BY 1 OFFSET 2 LIMIT 3')).toMatch(/ORDER BY 1 LIMIT 3 OFFSET 2$/);
    expect(sql('SELECT status_code FROM iris_payload FETCH FIRST 5 ROWS ONLY')).toMatch(/LIMIT 5$/);
    expect(translateAthenaSql('SHOW PARTITIONS inference_tables_dev.iris_payload', catalog)).toEqual({ kind: 'show-partitions', table: 'iris_payload' });
    expect(translateAthenaSql("SHOW TABLES IN inference_tables_dev 'iris*'", catalog)).toEqual({ kind: 'show-tables', like: 'iris*' });
    expect(translateAthenaSql('SHOW SCHEMAS', catalog)).toEqual({ kind: 'show-databases', like: null });
    expect(translateAthenaSql("SHOW DATABASES LIKE 'inf%'", catalog)).toEqual({ kind: 'show-databases', like: 'inf%' });
    expect(translateAthenaSql('DESCRIBE iris_payload', catalog)).toEqual({ kind: 'show-columns', table: 'iris_payload', describe: true });
    expect(translateAthenaSql('SHOW CREATE TABLE iris_unpacked', catalog)).toEqual({ kind: 'show-create-table', table: 'iris_unpacked' });
    expect(parseHiveStatement('SELECT 1')).toBeNull();
  });

  it('names a syntax error’s line and column, and takes one statement at a time', () => {
    expect(() => parseStatement('SELECT 1,\n  FROM t')).toThrow(SqlSyntaxError);
    expect(() => parseStatement('SELECT 1,\n  FROM t')).toThrow(/^line 2:/);
    expect(() => parseStatement('SELECT 1; SELECT 2')).toThrow(/one statement at a time/);
    expect(() => parseStatement(';')).toThrow(SqlSyntaxError);
  });
});

describe('format letters and types', () => {
  it('translates format letters, literal text kept', () => {
    expect(mysqlToStrftime('%x-%v %W')).toBe('%G-%V %A');
    expect(jodaToStrftime("yyyy-MM-dd'T'HH:mm:ss.SSSZ '100%'")).toBe("%Y-%m-%dT%H:%M:%S.%g+0000 100%%");
    expect(jodaToStrftime("EEE, d MMM yy h:mm a z")).toBe('%a, %-d %b %y %-I:%M %p UTC');
  });

  it('reads DuckDB types as Trino’s and names them both ways', () => {
    const row = fromDuckType('STRUCT("a b" DECIMAL(10,2), c TIMESTAMP WITH TIME ZONE)[]');
    expect(trinoTypeName(row)).toBe('array(row(a b decimal(10,2), c timestamp(3) with time zone))');
    expect(hiveTypeName(row)).toBe('array<struct<a b:decimal(10,2),c:timestamp>>');
    expect(trinoTypeName(fromDuckType('MAP(VARCHAR, BIGINT[])'))).toBe('map(varchar, array(bigint))');
    expect(trinoTypeName(fromDuckType('UUID'))).toBe('uuid');
    expect(trinoTypeName(fromDuckType('INTERVAL'))).toBe('unknown');
  });

  it('widens types as Trino does', () => {
    expect(unify([INTEGER, decimalLiteral('1.5')])).toEqual(decimal(11, 1));
    expect(unify([DOUBLE, INTEGER])).toEqual(DOUBLE);
    expect(unify([VARCHAR, INTEGER])).toEqual(UNKNOWN);
    expect(unify([UNKNOWN])).toEqual(UNKNOWN);
    expect(arithmeticType(decimalLiteral('1.25'), decimalLiteral('2.5'), '*')).toEqual(decimal(5, 3));
    expect(arithmeticType(decimalLiteral('10.5'), INTEGER, '%')).toEqual(decimal(3, 1));
    expect(arithmeticType(VARCHAR, INTEGER)).toEqual(UNKNOWN);
  });

  it('writes JSON as json_parse does: keys sorted, spellings kept, duplicates last', () => {
    expect(canonicalJson('{"b": 1.50, "a": [true, {"d": null, "c": "x"}], "b": 2}')).toBe('{"a":[true,{"c":"x","d":null}],"b":2}');
    expect(canonicalJson(' [ ] ')).toBe('[]');
    expect(canonicalJson('{}')).toBe('{}');
    expect(() => canonicalJson('{"a": ')).toThrow(SyntaxError);
  });

  it('keeps TranslationError apart from other errors', () => {
    expect(new TranslationError('x')).toBeInstanceOf(Error);
    expect(new TranslationError('x').name).toBe('TranslationError');
  });
});
