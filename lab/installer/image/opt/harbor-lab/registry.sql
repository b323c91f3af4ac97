drop database if exists registry;
create database registry charset = utf8;

use registry;

-- Schema of the harbor-ha LAB stand-in for Harbor v1.2.2 (not Harbor's own file).
-- Table and column names follow Harbor 1.x so that tools written for it find them.
-- The file is plain SQL: one statement per semicolon, no delimiters, no semicolons in comments.

create table access (
 access_id int NOT NULL AUTO_INCREMENT,
 access_code char(1),
 comment varchar(30),
 primary key (access_id)
);

insert into access (access_code, comment) values
('M', 'Management access for project'),
('R', 'Read access for project'),
('W', 'Write access for project'),
('D', 'Delete access for project'),
('S', 'Search access for project');

create table role (
 role_id int NOT NULL AUTO_INCREMENT,
 role_mask int DEFAULT 0 NOT NULL,
 role_code varchar(20),
 name varchar(20),
 primary key (role_id)
);

-- role_id 1 may push and pull, 2 too, 3 only pulls
insert into role (role_code, name) values
('MDRWS', 'projectAdmin'),
('RWS', 'developer'),
('RS', 'guest');

-- password = hex(pbkdf2-sha1(password, salt, 4096 rounds, 16 bytes)), salt = 32 random characters.
-- The admin row starts without a password: the ui sets HARBOR_ADMIN_PASSWORD on its first start.
create table user (
 user_id int NOT NULL AUTO_INCREMENT,
 username varchar(255),
 email varchar(255),
 password varchar(40) NOT NULL,
 realname varchar(255) NOT NULL,
 comment varchar(30),
 deleted tinyint(1) DEFAULT 0 NOT NULL,
 reset_uuid varchar(40) DEFAULT NULL,
 salt varchar(40) DEFAULT NULL,
 sysadmin_flag tinyint(1),
 creation_time timestamp NULL,
 update_time timestamp NULL,
 primary key (user_id),
 UNIQUE (username),
 UNIQUE (email)
);

insert into user (username, email, password, realname, comment, deleted, sysadmin_flag, creation_time, update_time) values
('admin', 'admin@example.com', '', 'system admin', 'admin user', 0, 1, NOW(), NOW()),
('anonymous', 'anonymous@example.com', '', 'anonymous user', 'anonymous user', 1, 0, NOW(), NOW());

create table project (
 project_id int NOT NULL AUTO_INCREMENT,
 owner_id int NOT NULL,
 name varchar(41) NOT NULL,
 creation_time timestamp NULL,
 update_time timestamp NULL,
 deleted tinyint(1) DEFAULT 0 NOT NULL,
 public tinyint(1) DEFAULT 0 NOT NULL,
 primary key (project_id),
 FOREIGN KEY (owner_id) REFERENCES user(user_id),
 UNIQUE (name)
);

insert into project (owner_id, name, creation_time, update_time, public) values
(1, 'library', NOW(), NOW(), 1);

create table project_member (
 project_id int NOT NULL,
 user_id int NOT NULL,
 role int NOT NULL,
 creation_time timestamp NULL,
 update_time timestamp NULL,
 PRIMARY KEY (project_id, user_id),
 FOREIGN KEY (role) REFERENCES role(role_id),
 FOREIGN KEY (project_id) REFERENCES project(project_id),
 FOREIGN KEY (user_id) REFERENCES user(user_id)
);

insert into project_member (project_id, user_id, role, creation_time, update_time) values
(1, 1, 1, NOW(), NOW());

create table access_log (
 log_id int NOT NULL AUTO_INCREMENT,
 username varchar(255) NOT NULL,
 project_id int NOT NULL,
 repo_name varchar(256),
 repo_tag varchar(128),
 GUID varchar(64),
 operation varchar(20) NOT NULL,
 op_time timestamp NULL,
 primary key (log_id),
 INDEX pid_optime (project_id, op_time)
);

create table repository (
 repository_id int NOT NULL AUTO_INCREMENT,
 name varchar(255) NOT NULL,
 project_id int NOT NULL,
 description text,
 pull_count int DEFAULT 0 NOT NULL,
 star_count int DEFAULT 0 NOT NULL,
 creation_time timestamp default CURRENT_TIMESTAMP,
 update_time timestamp default CURRENT_TIMESTAMP on update CURRENT_TIMESTAMP,
 primary key (repository_id),
 UNIQUE (name)
);

create table replication_target (
 id int NOT NULL AUTO_INCREMENT,
 name varchar(64),
 url varchar(64),
 username varchar(255),
 password varchar(128),
 target_type tinyint(1) NOT NULL DEFAULT 0,
 creation_time timestamp default CURRENT_TIMESTAMP,
 update_time timestamp default CURRENT_TIMESTAMP on update CURRENT_TIMESTAMP,
 PRIMARY KEY (id)
);

create table properties (
 k varchar(64) NOT NULL,
 v varchar(128) NOT NULL,
 primary key (k)
);

create table if not exists alembic_version (
 version_num varchar(32) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

insert into alembic_version values ('1.2.0');
