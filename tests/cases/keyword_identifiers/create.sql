CREATE TABLE t (`select` int NOT NULL, `order` varchar(10) NULL, `key` int NULL, `from` datetime NULL, PRIMARY KEY (`select`)) DEFAULT CHARSET=utf8mb4;
INSERT INTO t SELECT seq, CONCAT('o', seq), seq, NOW() FROM seq_1_to_500;
