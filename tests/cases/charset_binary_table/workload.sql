INSERT INTO `t` (a, b) SELECT CONCAT('\0', (@s := FLOOR(RAND() * 100000)), '\xff'), UNHEX('00FF');
UPDATE `t` SET a = CONCAT('\0', FLOOR(RAND() * 100000), '\xff'), b = UNHEX('00FF') WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
