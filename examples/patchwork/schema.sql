-- Patchwork v2.2 schema (the tables involved in the "flatten" of Patch and
-- CoverLetter into Submission) for MariaDB 10.11.
--
-- Derived from patchwork/models.py and migrations 0001..0040 of v2.2.x as
-- Django 2.2 would have created them on MySQL (see
-- research/patchwork.md section 1.3): the column order, types, index names
-- and constraint names are those of a real instance, including historical
-- artefacts (patchwork_submission is the original patchwork_patch table,
-- renamed, so its keys are still called patchwork_patch_*). Exact names
-- matter: livemig must keep the constraint names of a table it migrates.
--
-- Load into an existing, empty database:
--     mariadb DB < examples/patchwork/schema.sql
-- Only the Django auth table the FKs need is included, reduced to a few
-- columns (auth_user); the other Django/auth tables play no part.
--
-- The CREATEs are ordered so that every FK resolves when it is created.

CREATE TABLE `auth_user` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `password` varchar(128) NOT NULL,
  `last_login` datetime(6) DEFAULT NULL,
  `is_superuser` tinyint(1) NOT NULL,
  `username` varchar(150) NOT NULL,
  `first_name` varchar(30) NOT NULL,
  `last_name` varchar(150) NOT NULL,
  `email` varchar(254) NOT NULL,
  `is_staff` tinyint(1) NOT NULL,
  `is_active` tinyint(1) NOT NULL,
  `date_joined` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `username` (`username`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_project` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `linkname` varchar(255) NOT NULL,
  `name` varchar(255) NOT NULL,
  `listid` varchar(255) NOT NULL,
  `listemail` varchar(200) NOT NULL,
  `web_url` varchar(2000) NOT NULL,
  `scm_url` varchar(2000) NOT NULL,
  `webscm_url` varchar(2000) NOT NULL,
  `send_notifications` tinyint(1) NOT NULL,
  `use_tags` tinyint(1) NOT NULL,
  `subject_match` varchar(64) NOT NULL,
  `list_archive_url` varchar(2000) NOT NULL,
  `list_archive_url_format` varchar(2000) NOT NULL,
  `commit_url_format` varchar(2000) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `linkname` (`linkname`),
  UNIQUE KEY `name` (`name`),
  UNIQUE KEY `patchwork_project_listid_subject_match_ab7737e7_uniq` (`listid`,`subject_match`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_person` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `email` varchar(255) NOT NULL,
  `name` varchar(255) DEFAULT NULL,
  `user_id` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `email` (`email`),
  KEY `patchwork_person_user_id_64afdc84_fk_auth_user_id` (`user_id`),
  CONSTRAINT `patchwork_person_user_id_64afdc84_fk_auth_user_id` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_state` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL,
  `ordering` int(11) NOT NULL,
  `action_required` tinyint(1) NOT NULL,
  `slug` varchar(100) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ordering` (`ordering`),
  UNIQUE KEY `slug` (`slug`),
  UNIQUE KEY `patchwork_state_name_ae39e254_uniq` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_tag` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(20) NOT NULL,
  `pattern` varchar(50) NOT NULL,
  `abbrev` varchar(2) NOT NULL,
  `show_column` tinyint(1) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `abbrev` (`abbrev`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

-- The original patchwork_patch of 0001, renamed to patchwork_submission in
-- 0009: hence the patchwork_patch_* key names.
CREATE TABLE `patchwork_submission` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `msgid` varchar(255) NOT NULL,
  `name` varchar(255) NOT NULL,
  `date` datetime(6) NOT NULL,
  `headers` longtext NOT NULL,
  `project_id` int(11) NOT NULL,
  `submitter_id` int(11) NOT NULL,
  `content` longtext DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `patchwork_patch_msgid_project_id_2e1fe709_uniq` (`msgid`,`project_id`),
  KEY `patchwork_patch_project_id_162a7a7f_fk_patchwork_project_id` (`project_id`),
  KEY `patchwork_patch_submitter_id_57c66142_fk_patchwork_person_id` (`submitter_id`),
  KEY `submission_covering_idx` (`date`,`project_id`,`submitter_id`,`name`),
  CONSTRAINT `patchwork_patch_project_id_162a7a7f_fk_patchwork_project_id` FOREIGN KEY (`project_id`) REFERENCES `patchwork_project` (`id`),
  CONSTRAINT `patchwork_patch_submitter_id_57c66142_fk_patchwork_person_id` FOREIGN KEY (`submitter_id`) REFERENCES `patchwork_person` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_coverletter` (
  `submission_ptr_id` int(11) NOT NULL,
  PRIMARY KEY (`submission_ptr_id`),
  CONSTRAINT `patchwork_coverlette_submission_ptr_id_42f348d7_fk_patchwork` FOREIGN KEY (`submission_ptr_id`) REFERENCES `patchwork_submission` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_series` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `date` datetime(6) NOT NULL,
  `version` int(11) NOT NULL,
  `total` int(11) NOT NULL,
  `cover_letter_id` int(11) DEFAULT NULL,
  `submitter_id` int(11) NOT NULL,
  `project_id` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `patchwork_series_cover_letter_id_5d2ace1d_uniq` (`cover_letter_id`),
  KEY `patchwork_series_submitter_id_2531ed68_fk_patchwork_person_id` (`submitter_id`),
  KEY `patchwork_series_project_id_e98b8d18_fk_patchwork_project_id` (`project_id`),
  CONSTRAINT `patchwork_series_cover_letter_id_5d2ace1d_fk_patchwork` FOREIGN KEY (`cover_letter_id`) REFERENCES `patchwork_coverletter` (`submission_ptr_id`),
  CONSTRAINT `patchwork_series_project_id_e98b8d18_fk_patchwork_project_id` FOREIGN KEY (`project_id`) REFERENCES `patchwork_project` (`id`),
  CONSTRAINT `patchwork_series_submitter_id_2531ed68_fk_patchwork_person_id` FOREIGN KEY (`submitter_id`) REFERENCES `patchwork_person` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_seriesreference` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `msgid` varchar(255) NOT NULL,
  `series_id` int(11) NOT NULL,
  `project_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `patchwork_seriesreference_project_id_msgid_1839e786_uniq` (`project_id`,`msgid`),
  KEY `patchwork_seriesreference_series_id_3e1f12a3` (`series_id`),
  CONSTRAINT `patchwork_seriesrefe_project_id_6a017a21_fk_patchwork` FOREIGN KEY (`project_id`) REFERENCES `patchwork_project` (`id`),
  CONSTRAINT `patchwork_seriesrefe_series_id_3e1f12a3_fk_patchwork` FOREIGN KEY (`series_id`) REFERENCES `patchwork_series` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_patchrelation` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

-- The subclass table of 0009 (columns diff2.. renamed in 0011): MariaDB
-- keeps the implicit FK index names from before the rename (delegate2_id,
-- state2_id) and the unique key name from 0031 (series_alt_id).
CREATE TABLE `patchwork_patch` (
  `submission_ptr_id` int(11) NOT NULL,
  `diff` longtext DEFAULT NULL,
  `commit_ref` varchar(255) DEFAULT NULL,
  `pull_url` varchar(255) DEFAULT NULL,
  `delegate_id` int(11) DEFAULT NULL,
  `state_id` int(11) DEFAULT NULL,
  `archived` tinyint(1) NOT NULL,
  `hash` char(40) DEFAULT NULL,
  `patch_project_id` int(11) NOT NULL,
  `number` smallint(5) unsigned DEFAULT NULL,
  `series_id` int(11) DEFAULT NULL,
  `related_id` int(11) DEFAULT NULL,
  PRIMARY KEY (`submission_ptr_id`),
  UNIQUE KEY `patchwork_patch_series_alt_id_number_a3184a59_uniq` (`series_id`,`number`),
  KEY `patchwork_patch_delegate2_id_6a5529f3_fk_auth_user_id` (`delegate_id`),
  KEY `patchwork_patch_state2_id_8dbf0472_fk_patchwork_state_id` (`state_id`),
  KEY `patchwork_patch_patch_project_id_aff1ad51_fk_patchwork` (`patch_project_id`),
  KEY `patch_list_covering_idx` (`archived`,`patch_project_id`,`state_id`,`delegate_id`),
  KEY `patchwork_patch_related_id_9cbd6508_fk_patchwork` (`related_id`),
  CONSTRAINT `patchwork_patch_submission_ptr_id_03216801_fk_patchwork` FOREIGN KEY (`submission_ptr_id`) REFERENCES `patchwork_submission` (`id`),
  CONSTRAINT `patchwork_patch_delegate_id_8f7ce805_fk_auth_user_id` FOREIGN KEY (`delegate_id`) REFERENCES `auth_user` (`id`),
  CONSTRAINT `patchwork_patch_state_id_3d9fb500_fk_patchwork_state_id` FOREIGN KEY (`state_id`) REFERENCES `patchwork_state` (`id`),
  CONSTRAINT `patchwork_patch_patch_project_id_aff1ad51_fk_patchwork` FOREIGN KEY (`patch_project_id`) REFERENCES `patchwork_project` (`id`),
  CONSTRAINT `patchwork_patch_series_id_1a73f59a_fk_patchwork_series_id` FOREIGN KEY (`series_id`) REFERENCES `patchwork_series` (`id`),
  CONSTRAINT `patchwork_patch_related_id_9cbd6508_fk_patchwork` FOREIGN KEY (`related_id`) REFERENCES `patchwork_patchrelation` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

-- The FK index of 0001 was dropped by MySQL when submission_date_idx (0028)
-- started with the same column; the unique key keeps its 0001 name.
CREATE TABLE `patchwork_comment` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `msgid` varchar(255) NOT NULL,
  `date` datetime(6) NOT NULL,
  `headers` longtext NOT NULL,
  `content` longtext DEFAULT NULL,
  `submission_id` int(11) NOT NULL,
  `submitter_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `patchwork_comment_msgid_patch_id_e8c15ff3_uniq` (`msgid`,`submission_id`),
  KEY `patchwork_comment_submitter_id_8cc363f6_fk_patchwork_person_id` (`submitter_id`),
  KEY `submission_date_idx` (`submission_id`,`date`),
  CONSTRAINT `patchwork_comment_submission_id_69e4e741_fk_patchwork` FOREIGN KEY (`submission_id`) REFERENCES `patchwork_submission` (`id`),
  CONSTRAINT `patchwork_comment_submitter_id_8cc363f6_fk_patchwork_person_id` FOREIGN KEY (`submitter_id`) REFERENCES `patchwork_person` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_check` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `date` datetime(6) NOT NULL,
  `state` smallint(6) NOT NULL,
  `target_url` varchar(200) DEFAULT NULL,
  `description` longtext DEFAULT NULL,
  `context` varchar(255) NOT NULL,
  `patch_id` int(11) NOT NULL,
  `user_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `patchwork_check_patch_id_e517f972_fk_patchwork_patch_id` (`patch_id`),
  KEY `patchwork_check_user_id_95932343_fk_auth_user_id` (`user_id`),
  KEY `patchwork_check_context_b15aabef` (`context`),
  CONSTRAINT `patchwork_check_patch_id_e517f972_fk_patchwork` FOREIGN KEY (`patch_id`) REFERENCES `patchwork_patch` (`submission_ptr_id`),
  CONSTRAINT `patchwork_check_user_id_95932343_fk_auth_user_id` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_patchtag` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `count` int(11) NOT NULL,
  `patch_id` int(11) NOT NULL,
  `tag_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `patchwork_patchtag_patch_id_tag_id_5ddba498_uniq` (`patch_id`,`tag_id`),
  KEY `patchwork_patchtag_tag_id_c032f51c_fk_patchwork_tag_id` (`tag_id`),
  CONSTRAINT `patchwork_patchtag_patch_id_5fad6ac3_fk_patchwork` FOREIGN KEY (`patch_id`) REFERENCES `patchwork_patch` (`submission_ptr_id`),
  CONSTRAINT `patchwork_patchtag_tag_id_c032f51c_fk_patchwork_tag_id` FOREIGN KEY (`tag_id`) REFERENCES `patchwork_tag` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_bundle` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(50) NOT NULL,
  `public` tinyint(1) NOT NULL,
  `owner_id` int(11) NOT NULL,
  `project_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `patchwork_bundle_owner_id_name_8bb7fe7e_uniq` (`owner_id`,`name`),
  KEY `patchwork_bundle_project_id_e6033e8b_fk_patchwork_project_id` (`project_id`),
  CONSTRAINT `patchwork_bundle_owner_id_50e0dc92_fk_auth_user_id` FOREIGN KEY (`owner_id`) REFERENCES `auth_user` (`id`),
  CONSTRAINT `patchwork_bundle_project_id_e6033e8b_fk_patchwork_project_id` FOREIGN KEY (`project_id`) REFERENCES `patchwork_project` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_bundlepatch` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `order` int(11) NOT NULL,
  `bundle_id` int(11) NOT NULL,
  `patch_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `patchwork_bundlepatch_bundle_id_patch_id_d8304561_uniq` (`bundle_id`,`patch_id`),
  KEY `patchwork_bundlepatch_patch_id_c75a880f_fk_patchwork_patch_id` (`patch_id`),
  CONSTRAINT `patchwork_bundlepatch_bundle_id_387ecba8_fk_patchwork_bundle_id` FOREIGN KEY (`bundle_id`) REFERENCES `patchwork_bundle` (`id`),
  CONSTRAINT `patchwork_bundlepatc_patch_id_c75a880f_fk_patchwork` FOREIGN KEY (`patch_id`) REFERENCES `patchwork_patch` (`submission_ptr_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_patchchangenotification` (
  `patch_id` int(11) NOT NULL,
  `last_modified` datetime(6) NOT NULL,
  `orig_state_id` int(11) NOT NULL,
  PRIMARY KEY (`patch_id`),
  KEY `patchwork_patchchang_orig_state_id_23b89f55_fk_patchwork` (`orig_state_id`),
  CONSTRAINT `patchwork_patchchang_orig_state_id_23b89f55_fk_patchwork` FOREIGN KEY (`orig_state_id`) REFERENCES `patchwork_state` (`id`),
  CONSTRAINT `patchwork_patchchang_patch_id_8e2f2f8e_fk_patchwork` FOREIGN KEY (`patch_id`) REFERENCES `patchwork_patch` (`submission_ptr_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;

CREATE TABLE `patchwork_event` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `category` varchar(25) NOT NULL,
  `date` datetime(6) NOT NULL,
  `cover_id` int(11) DEFAULT NULL,
  `created_check_id` int(11) DEFAULT NULL,
  `current_delegate_id` int(11) DEFAULT NULL,
  `current_state_id` int(11) DEFAULT NULL,
  `patch_id` int(11) DEFAULT NULL,
  `previous_delegate_id` int(11) DEFAULT NULL,
  `previous_state_id` int(11) DEFAULT NULL,
  `project_id` int(11) NOT NULL,
  `series_id` int(11) DEFAULT NULL,
  `actor_id` int(11) DEFAULT NULL,
  `current_relation_id` int(11) DEFAULT NULL,
  `previous_relation_id` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `patchwork_event_category_28fbc859` (`category`),
  KEY `patchwork_event_cover_id_70e5e19e_fk_patchwork` (`cover_id`),
  KEY `patchwork_event_created_check_id_a1b2fdfe_fk_patchwork_check_id` (`created_check_id`),
  KEY `patchwork_event_current_delegate_id_299ee6a2_fk_auth_user_id` (`current_delegate_id`),
  KEY `patchwork_event_current_state_id_b7470442_fk_patchwork_state_id` (`current_state_id`),
  KEY `patchwork_event_patch_id_15d4004e_fk_patchwork` (`patch_id`),
  KEY `patchwork_event_previous_delegate_id_35c46cd9_fk_auth_user_id` (`previous_delegate_id`),
  KEY `patchwork_event_previous_state_id_b68d9fe3_fk_patchwork_state_id` (`previous_state_id`),
  KEY `patchwork_event_project_id_fda4f70d_fk_patchwork_project_id` (`project_id`),
  KEY `patchwork_event_series_id_cfaff1bf_fk_patchwork_series_id` (`series_id`),
  KEY `patchwork_event_actor_id_441d6c4c_fk_auth_user_id` (`actor_id`),
  KEY `patchwork_event_current_relation_id_24589e0e_fk_patchwork` (`current_relation_id`),
  KEY `patchwork_event_previous_relation_id_99308f2a_fk_patchwork` (`previous_relation_id`),
  CONSTRAINT `patchwork_event_cover_id_70e5e19e_fk_patchwork` FOREIGN KEY (`cover_id`) REFERENCES `patchwork_coverletter` (`submission_ptr_id`),
  CONSTRAINT `patchwork_event_created_check_id_a1b2fdfe_fk_patchwork_check_id` FOREIGN KEY (`created_check_id`) REFERENCES `patchwork_check` (`id`),
  CONSTRAINT `patchwork_event_current_delegate_id_299ee6a2_fk_auth_user_id` FOREIGN KEY (`current_delegate_id`) REFERENCES `auth_user` (`id`),
  CONSTRAINT `patchwork_event_current_state_id_b7470442_fk_patchwork_state_id` FOREIGN KEY (`current_state_id`) REFERENCES `patchwork_state` (`id`),
  CONSTRAINT `patchwork_event_patch_id_15d4004e_fk_patchwork` FOREIGN KEY (`patch_id`) REFERENCES `patchwork_patch` (`submission_ptr_id`),
  CONSTRAINT `patchwork_event_previous_delegate_id_35c46cd9_fk_auth_user_id` FOREIGN KEY (`previous_delegate_id`) REFERENCES `auth_user` (`id`),
  CONSTRAINT `patchwork_event_previous_state_id_b68d9fe3_fk_patchwork_state_id` FOREIGN KEY (`previous_state_id`) REFERENCES `patchwork_state` (`id`),
  CONSTRAINT `patchwork_event_project_id_fda4f70d_fk_patchwork_project_id` FOREIGN KEY (`project_id`) REFERENCES `patchwork_project` (`id`),
  CONSTRAINT `patchwork_event_series_id_cfaff1bf_fk_patchwork_series_id` FOREIGN KEY (`series_id`) REFERENCES `patchwork_series` (`id`),
  CONSTRAINT `patchwork_event_actor_id_441d6c4c_fk_auth_user_id` FOREIGN KEY (`actor_id`) REFERENCES `auth_user` (`id`),
  CONSTRAINT `patchwork_event_current_relation_id_24589e0e_fk_patchwork` FOREIGN KEY (`current_relation_id`) REFERENCES `patchwork_patchrelation` (`id`),
  CONSTRAINT `patchwork_event_previous_relation_id_99308f2a_fk_patchwork` FOREIGN KEY (`previous_relation_id`) REFERENCES `patchwork_patchrelation` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;
