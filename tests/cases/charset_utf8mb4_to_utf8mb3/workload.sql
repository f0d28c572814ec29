INSERT INTO `t` (a) SELECT CONCAT('ναΐ ', (@s := FLOOR(RAND() * 100000)), ' ☃');
UPDATE `t` SET a = CONCAT('ναΐ ', FLOOR(RAND() * 100000), ' ☃') WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
