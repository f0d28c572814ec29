INSERT INTO `t` (a, b) SELECT MAKE_SET((@s := FLOOR(RAND() * 100000)) % 8, 'x', 'y', 'z'), MAKE_SET((@s := FLOOR(RAND() * 100000)) % 4, 'α', 'β');
UPDATE `t` SET a = MAKE_SET(FLOOR(RAND() * 100000) % 8, 'x', 'y', 'z'), b = MAKE_SET(FLOOR(RAND() * 100000) % 4, 'α', 'β') WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
