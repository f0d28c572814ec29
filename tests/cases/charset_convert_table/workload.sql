INSERT INTO `t` (a, b) SELECT CONCAT('café ', (@s := FLOOR(RAND() * 100000))), CONCAT('ß', (@s := FLOOR(RAND() * 100000)));
UPDATE `t` SET a = CONCAT('café ', FLOOR(RAND() * 100000)), b = CONCAT('ß', FLOOR(RAND() * 100000)) WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
