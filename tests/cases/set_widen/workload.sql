INSERT INTO `t` (a) SELECT MAKE_SET((@s := FLOOR(RAND() * 100000)) % 4, 'x', 'y');
UPDATE `t` SET a = MAKE_SET(FLOOR(RAND() * 100000) % 4, 'x', 'y') WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
