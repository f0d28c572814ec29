INSERT INTO `t` (a, b, c) SELECT (@s := FLOOR(RAND() * 100000)) / 7 * IF((@s := FLOOR(RAND() * 100000)) % 2, 1, -1), (@s := FLOOR(RAND() * 100000)) / 3, (@s := FLOOR(RAND() * 100000)) % 99999;
UPDATE `t` SET a = FLOOR(RAND() * 100000) / 7 * IF(FLOOR(RAND() * 100000) % 2, 1, -1), b = FLOOR(RAND() * 100000) / 3, c = FLOOR(RAND() * 100000) % 99999 WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
