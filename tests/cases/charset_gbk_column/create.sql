CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a varchar(50) CHARACTER SET gbk NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a)
SELECT seq, CONCAT('中文', seq, '汉字')
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
