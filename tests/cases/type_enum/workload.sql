INSERT INTO `t` (a, b) SELECT ELT(1 + (@s := FLOOR(RAND() * 100000)) % 5, 'a', 'b', 'c''q', 'ü', ''), IF((@s := FLOOR(RAND() * 100000)) % 2, 'x', 'y');
UPDATE `t` SET a = ELT(1 + FLOOR(RAND() * 100000) % 5, 'a', 'b', 'c''q', 'ü', ''), b = IF(FLOOR(RAND() * 100000) % 2, 'x', 'y') WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
