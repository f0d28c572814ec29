
INSERT IGNORE INTO t VALUES (FLOOR(RAND() * 1000), 'x', 1, 2);
UPDATE t SET `ünï ☃` = `ünï ☃` + 1 WHERE `id col` = FLOOR(RAND() * 500);
DELETE FROM t WHERE `id col` = FLOOR(RAND() * 600);
