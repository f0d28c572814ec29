INSERT INTO `t` (a) SELECT CONCAT('中文', (@s := FLOOR(RAND() * 100000)), '汉字');
UPDATE `t` SET a = CONCAT('中文', FLOOR(RAND() * 100000), '汉字') WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
