CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a binary(16) NULL,
  b varbinary(64) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b)
SELECT seq, UNHEX(MD5(seq)), IF(seq % 3, UNHEX(CONCAT('00', HEX(seq), '00')), '')
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
