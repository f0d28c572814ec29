INSERT INTO `t` (a) SELECT ELT(1 + (@s := FLOOR(RAND() * 100000)) % 3, 'a', 'b', 'c');
UPDATE `t` SET a = ELT(1 + FLOOR(RAND() * 100000) % 3, 'a', 'b', 'c') WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
