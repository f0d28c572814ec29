
INSERT IGNORE INTO t VALUES (FLOOR(RAND() * 1000), 'x', 1, NULL);
UPDATE t SET `key` = `key` + 1 WHERE `select` = FLOOR(RAND() * 500);
DELETE FROM t WHERE `select` = FLOOR(RAND() * 600);
