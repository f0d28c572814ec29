INSERT INTO `t` (a, b, c) SELECT (@s := FLOOR(RAND() * 100000)) / 3e0, IF((@s := FLOOR(RAND() * 100000)) % 9 = 0, NULL, (@s := FLOOR(RAND() * 100000)) / 7e0 * 1e-300), (@s := FLOOR(RAND() * 100000)) / 11;
UPDATE `t` SET a = FLOOR(RAND() * 100000) / 3e0, b = IF(FLOOR(RAND() * 100000) % 9 = 0, NULL, FLOOR(RAND() * 100000) / 7e0 * 1e-300), c = FLOOR(RAND() * 100000) / 11 WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
