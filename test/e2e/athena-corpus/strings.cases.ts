/**
 * Strings, LIKE and regular expressions (Trino functions/string.md, regexp.md, comparison.md).
 * Comparisons are case-sensitive and by code point; regular expressions are Java's.
 * requester is `local:alice` or `local:bob`.
 */
import type { Case } from './fixture.js';

export const cases: readonly Case[] = [
  {
    name: 'strings: comparison is case-sensitive',
    sql: `SELECT 'Abc' = 'abc' AS same, lower('Abc') = 'abc' AS folded, count_if(requester = 'LOCAL:ALICE') AS upper_match FROM iris_payload`,
    rule: 'varchar equality compares code points; no case folding',
    expected: [{ same: false, folded: true, upper_match: 0 }],
  },
  {
    name: 'strings: ordering is by code point',
    sql: `SELECT x FROM (VALUES 'b', 'a', 'B') AS t(x) ORDER BY x`,
    rule: 'varchar ordering is by code point: uppercase letters sort before lowercase',
    expected: [{ x: 'B' }, { x: 'a' }, { x: 'b' }],
    ordered: true,
  },
  {
    name: 'strings: LIKE with _ and %',
    sql: `SELECT count_if(request_id LIKE 'r0_') AS single_digit, count_if(request_id LIKE 'r1%') AS tens FROM iris_payload`,
    rule: 'LIKE: _ matches one character, % any sequence',
    expected: [{ single_digit: 9, tens: 3 }],
  },
  {
    name: 'strings: LIKE with ESCAPE',
    sql: `SELECT '100%' LIKE '100\\%' ESCAPE '\\' AS percent_sign, '1000' LIKE '100\\%' ESCAPE '\\' AS not_a_wildcard`,
    rule: 'LIKE pattern ESCAPE char: the escaped % is a literal percent sign',
    expected: [{ percent_sign: true, not_a_wildcard: false }],
  },
  {
    name: 'strings: an unescaped _ matches a hyphen',
    sql: `SELECT count_if(request_metadata['served_entity_name'] LIKE 'iris_classifier%') AS wildcard, count_if(request_metadata['served_entity_name'] LIKE 'iris\\_classifier%' ESCAPE '\\') AS literal FROM iris_payload`,
    rule: 'LIKE: _ is a wildcard unless escaped; the names are iris-classifier-2/3',
    expected: [{ wildcard: 12, literal: 0 }],
  },
  {
    name: 'strings: regexp_like is a partial match',
    sql: `SELECT count_if(regexp_like(response, '"error_code"')) AS errors, count_if(regexp_like(client_request_id, '^order-1\\d?$')) AS ids FROM iris_payload`,
    rule: 'regexp.md: regexp_like matches if the pattern occurs anywhere (anchor with ^ $); order-1, order-11, order-12',
    expected: [{ errors: 4, ids: 3 }],
  },
  {
    name: 'strings: regexp_extract with and without a group',
    sql: `SELECT regexp_extract(client_request_id, '\\d+') AS whole, regexp_extract(client_request_id, 'order-(\\d+)', 1) AS grp, regexp_extract(requester, 'x+') AS no_match FROM iris_payload WHERE request_id = 'r11'`,
    rule: 'regexp_extract(string, pattern[, group]) returns the first match or group; NULL when nothing matches',
    expected: [{ whole: '11', grp: '11', no_match: null }],
  },
  {
    name: 'strings: regexp_extract_all',
    sql: `SELECT regexp_extract_all('a1b22c333', '\\d+') AS v`,
    rule: 'regexp_extract_all returns every match',
    expected: [{ v: ['1', '22', '333'] }],
  },
  {
    name: 'strings: regexp_replace with $ backreferences',
    sql: `SELECT regexp_replace(requester, '^local:', '') AS name, regexp_replace('a1b22', '\\d+', '#') AS masked, regexp_replace('2026-11-22', '(\\d+)-(\\d+)-(\\d+)', '$3/$2/$1') AS swapped FROM iris_payload WHERE request_id = 'r01'`,
    rule: 'regexp_replace replaces every match; the replacement refers to groups as $n',
    expected: [{ name: 'alice', masked: 'a#b#', swapped: '22/11/2026' }],
  },
  {
    name: 'strings: split and split_part',
    sql: `SELECT split(requester, ':') AS parts, split_part(requester, ':', 2) AS name, split_part(requester, ':', 5) AS beyond, split('a,b,,c', ',') AS with_empty FROM iris_payload WHERE request_id = 'r02'`,
    rule: 'split keeps empty fields; split_part is 1-based and NULL past the last field',
    expected: [{ parts: ['local', 'bob'], name: 'bob', beyond: null, with_empty: ['a', 'b', '', 'c'] }],
  },
  {
    name: 'strings: strpos and position',
    sql: `SELECT strpos(requester, ':') AS colon, strpos('abc', 'z') AS missing, position('c' IN 'abc') AS pos FROM iris_payload WHERE request_id = 'r01'`,
    rule: 'strpos / position are 1-based, 0 when absent',
    expected: [{ colon: 6, missing: 0, pos: 3 }],
  },
  {
    name: 'strings: lower, upper, trim, length',
    sql: `SELECT upper('iris') AS up, lower('IRIS') AS low, trim('  x  ') AS trimmed, ltrim('  x') AS left_trimmed, rtrim('x  ') AS right_trimmed, length('héllo') AS len`,
    rule: 'string.md; length counts code points',
    expected: [{ up: 'IRIS', low: 'iris', trimmed: 'x', left_trimmed: 'x', right_trimmed: 'x', len: 5 }],
  },
  {
    name: 'strings: substr with positive and negative starts',
    sql: `SELECT substr('inference', 3) AS rest, substr('inference', -5, 3) AS from_end, substring('inference', 1, 2) AS head`,
    rule: 'substr(string, start[, length]): 1-based; a negative start counts from the end',
    expected: [{ rest: 'ference', from_end: 'ren', head: 'in' }],
  },
  {
    name: 'strings: replace with and without a replacement',
    sql: `SELECT replace('a-b-c', '-', '_') AS swapped, replace('a-b-c', '-') AS removed`,
    rule: 'replace(string, search[, replace]) replaces or removes every instance',
    expected: [{ swapped: 'a_b_c', removed: 'abc' }],
  },
  {
    name: 'strings: concat and ||, NULL propagation',
    sql: `SELECT concat('a', 'b', 'c') AS c3, 'a' || 'b' AS piped, 'a' || NULL AS with_null, concat('a', NULL) AS concat_null`,
    rule: '|| and concat return NULL if an argument is NULL',
    expected: [{ c3: 'abc', piped: 'ab', with_null: null, concat_null: null }],
  },
  {
    name: 'strings: building an id with || and a cast',
    sql: `SELECT request_id || ':' || CAST(status_code AS VARCHAR) AS tag FROM iris_payload WHERE request_id = 'r04'`,
    rule: '|| needs varchar operands: numbers are cast explicitly',
    expected: [{ tag: 'r04:400' }],
  },
  {
    name: 'strings: lpad and rpad',
    sql: `SELECT lpad('7', 3, '0') AS padded, rpad('ab', 5, '.') AS dotted, lpad('abcdef', 3, '0') AS cut`,
    rule: 'lpad/rpad(string, size, padstring): shorter sizes truncate',
    expected: [{ padded: '007', dotted: 'ab...', cut: 'abc' }],
  },
  {
    name: 'strings: starts_with',
    sql: `SELECT request_id FROM iris_payload WHERE starts_with(request_id, 'r1')`,
    rule: 'starts_with(string, prefix)',
    expected: [{ request_id: 'r10' }, { request_id: 'r11' }, { request_id: 'r12' }],
  },
  {
    name: 'strings: reverse, chr, codepoint',
    sql: `SELECT reverse('abc') AS r, chr(65) AS a, codepoint('A') AS code`,
    rule: 'string.md',
    expected: [{ r: 'cba', a: 'A', code: 65 }],
  },
  {
    name: 'strings: to_utf8 is varbinary',
    sql: `SELECT length(to_utf8('héllo')) AS bytes, to_hex(to_utf8('ML')) AS hex, from_utf8(to_utf8('iris')) AS back`,
    rule: 'to_utf8 encodes to varbinary (é is 2 bytes); length(varbinary) counts bytes; to_hex is uppercase',
    expected: [{ bytes: 6, hex: '4D4C', back: 'iris' }],
  },
  {
    name: 'strings: format',
    sql: `SELECT format('%s=%d', 'n', 5) AS pair, format('%.2f', 3.14159e0) AS fixed, format('%03d', 8) AS zero_padded`,
    rule: 'conversion.md format(format, args...) uses Java format strings',
    expected: [{ pair: 'n=5', fixed: '3.14', zero_padded: '008' }],
  },
  {
    name: 'strings: length of the captured bodies',
    sql: `SELECT length(response) AS n FROM iris_payload WHERE request_id = 'r01'`,
    rule: 'length of \'{"predictions": [0, 2]}\'',
    expected: [{ n: 23 }],
  },
  {
    name: 'strings: the model name without its version',
    sql: `SELECT DISTINCT regexp_replace(request_metadata['served_entity_name'], '-\\d+$', '') AS model FROM iris_payload`,
    rule: 'regexp_replace with an anchored pattern',
    expected: [{ model: 'iris-classifier' }],
  },
];
