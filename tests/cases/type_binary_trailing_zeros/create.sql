CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  b inet6 NULL,
  c binary(4) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, b, c)
SELECT seq, CONCAT('2001:db8::', HEX(seq)), UNHEX(LPAD(HEX(seq), 8, '0'))
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
