CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a varchar(50) NULL,
  b char(8) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=binary;
INSERT INTO `t` (id, a, b)
SELECT seq, CONCAT('\0', seq, '\xff'), UNHEX('00FF')
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
