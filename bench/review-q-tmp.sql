SELECT CAST(2.5e0 AS BIGINT) AS a, CAST(0.5e0 AS BIGINT) AS b, CAST(1.5e0 AS BIGINT) AS c, CAST(CAST(2.5 AS DOUBLE) AS INTEGER) AS d
----
SELECT round(2.5e0) AS a, round(0.125e0, 2) AS b
----
SELECT avg(CAST(sepal_length AS DECIMAL(10,2))) AS a, typeof(avg(CAST(sepal_length AS DECIMAL(10,2)))) AS t FROM iris_unpacked
----
SELECT CAST(sepal_length AS DECIMAL(10,1)) * 3 AS a, typeof(CAST(sepal_length AS DECIMAL(10,1)) * 3) AS t FROM iris_unpacked LIMIT 1
----
SELECT listagg(requester, ',') WITHIN GROUP (ORDER BY requester) AS l FROM iris_payload
----
SELECT approx_percentile(execution_time_ms, 1, 0.5) AS p FROM iris_payload
----
SELECT date_add('day', 1, "date") AS d FROM iris_payload LIMIT 1
----
SELECT u.prediction = l.label AS ok FROM iris_unpacked u JOIN iris_labels l ON u.client_request_id = l.client_request_id LIMIT 1
----
SELECT typeof(label) AS t FROM iris_labels LIMIT 1
----
SELECT reduce(probabilities, 0e0, (s, x) -> s + x, s -> s) AS r FROM iris_unpacked LIMIT 1
----
SELECT reduce(ARRAY[0.1e0, 0.2e0], 0, (s, x) -> s + x, s -> s) AS r
----
SELECT all_match(ARRAY[true, NULL], x -> x) AS a, any_match(ARRAY[false, NULL], x -> x) AS b
----
SELECT map_from_entries(ARRAY[ROW('a', 1), ROW('b', 2)]) AS m
----
SELECT CAST(json_parse('{"a": 1.5, "b": 2}') AS MAP(VARCHAR, DOUBLE)) AS m
----
SELECT CAST(json_parse('[1, "x", true]') AS ARRAY(DOUBLE)) AS m
----
SELECT request_time - TIMESTAMP '2026-11-21 00:00:00' AS d FROM iris_payload LIMIT 1
----
SELECT date_diff('month', DATE '2026-01-31', DATE '2026-02-28') AS a, date_diff('day', TIMESTAMP '2026-11-21 23:00:00', TIMESTAMP '2026-11-22 01:00:00') AS b
----
SELECT date_format(request_time, '%x-%v %u %D') AS f FROM iris_payload LIMIT 1
----
SELECT format_datetime(request_time, 'yyyy-MM-dd''T''HH:mm:ss.SSSZZ') AS f FROM iris_payload LIMIT 1
----
SELECT contains(ARRAY[1, NULL], 2) AS c
----
SELECT x FROM iris_payload x LIMIT 1
----
SELECT count(*) AS n FROM iris_payload GROUP BY ALL
----
SELECT DISTINCT ON (requester) requester FROM iris_payload
----
SELECT requester FROM iris_payload QUALIFY row_number() OVER (PARTITION BY requester) = 1
----
SELECT [1,2,3] AS a
----
SELECT {'a': 1} AS a
----
SELECT status_code::VARCHAR FROM iris_payload
----
FROM iris_payload
----
SELECT * EXCLUDE (request) FROM iris_payload
----
SELECT request->>'$.x' FROM iris_payload
----
SELECT [x + 1 FOR x IN ARRAY[1,2]] AS a
----
SELECT 'a' ILIKE 'A' AS a
----
SELECT 1 FROM iris_payload ORDER BY ALL
----
SELECT count(*) FROM iris_payload USING SAMPLE 10
----
PRAGMA version
----
COPY iris_payload TO '/tmp/x.csv'
----
ATTACH '/tmp/x.db' AS x
----
INSTALL httpfs
----
CALL pragma_version()
----
SELECT X'00ff' AS b, U&'\0041' AS u
