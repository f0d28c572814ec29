INSERT INTO `t` (a) SELECT IF((@s := FLOOR(RAND() * 100000)) % 2, 'a', 'b');
UPDATE `t` SET a = IF(FLOOR(RAND() * 100000) % 2, 'a', 'b') WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
