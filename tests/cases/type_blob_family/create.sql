CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a tinyblob NULL,
  b blob NULL,
  c mediumblob NULL,
  d longblob NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b, c, d)
SELECT seq, UNHEX(MD5(seq)), REPEAT(UNHEX('00FF7F80'), seq % 100), IF(seq % 5 = 0, NULL, UNHEX(SHA2(seq, 512))), ''
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
