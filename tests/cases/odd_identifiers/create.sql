CREATE TABLE t (`id col` int NOT NULL, `we``ird` varchar(10) NULL, `ünï ☃` int NULL, `a-b.c` int NULL, PRIMARY KEY (`id col`)) DEFAULT CHARSET=utf8mb4;
INSERT INTO t SELECT seq, CONCAT('w', seq), seq, -seq FROM seq_1_to_500;
