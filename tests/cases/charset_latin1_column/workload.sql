INSERT INTO `t` (a) SELECT CONCAT('café ', (@s := FLOOR(RAND() * 100000)), ' ñ');
UPDATE `t` SET a = CONCAT('café ', FLOOR(RAND() * 100000), ' ñ') WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
