# Install-time part of `cmake --install` for systemd/ (included from daemon/CMakeLists.txt, which
# sets SW_SYSTEMD_DIR, SW_SYSTEMD_WORK_DIR and the GNUInstallDirs values SW_SBINDIR,
# SW_SYSCONFDIR, SW_DOCDIR first).
#
# Why at install time: the unit names the daemon and its configuration by absolute path, and
# `cmake --install --prefix P` changes the prefix after configure, when configure_file would
# already have written the configure-time prefix into the unit. Here CMAKE_INSTALL_PREFIX is the
# one being installed to; DESTDIR is applied by file(INSTALL) and never appears in the unit.

# GNUInstallDirs' rules for the full path of a directory under the install prefix (as install()
# applies them to relative destinations, so the unit names the file that was installed).
function(sw_full_dir out dir kind)
  if(IS_ABSOLUTE "${dir}")
    set(full "${dir}")
  elseif(kind STREQUAL "sysconf" AND CMAKE_INSTALL_PREFIX MATCHES "^(/usr)?/*$")
    set(full "/${dir}")  # prefix / or /usr: /etc, not /usr/etc
  elseif(kind STREQUAL "sysconf" AND CMAKE_INSTALL_PREFIX MATCHES "^/opt/(.+)$")
    set(full "/${dir}/opt/${CMAKE_MATCH_1}")  # /etc/opt/NAME
  else()
    set(full "${CMAKE_INSTALL_PREFIX}/${dir}")
  endif()
  string(REGEX REPLACE "/+" "/" full "${full}")
  string(REGEX REPLACE "(.)/$" "\\1" full "${full}")
  set(${out} "${full}" PARENT_SCOPE)
endfunction()

sw_full_dir(CMAKE_INSTALL_FULL_SBINDIR "${SW_SBINDIR}" other)
sw_full_dir(CMAKE_INSTALL_FULL_SYSCONFDIR "${SW_SYSCONFDIR}" sysconf)
sw_full_dir(CMAKE_INSTALL_FULL_DOCDIR "${SW_DOCDIR}" other)
set(SW_CONFIG_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/sybilwatch")
set(SW_CONFIG_FILE "${SW_CONFIG_DIR}/sybilwatch.yaml")
sw_full_dir(sw_unit_dir "lib/systemd/system" other)

configure_file("${SW_SYSTEMD_DIR}/sybilwatchd.service.in"
               "${SW_SYSTEMD_WORK_DIR}/sybilwatchd.service" @ONLY)
file(INSTALL DESTINATION "${sw_unit_dir}" TYPE FILE
     FILES "${SW_SYSTEMD_WORK_DIR}/sybilwatchd.service")

# The default configuration, unless the operator's own is already there: a reinstall must not
# undo their edits. Then the shipped file goes beside it as sybilwatch.yaml.new to compare.
set(sw_installed_config "$ENV{DESTDIR}${SW_CONFIG_FILE}")
if(EXISTS "${sw_installed_config}")
  file(SHA256 "${sw_installed_config}" sw_have)
  file(SHA256 "${SW_SYSTEMD_DIR}/sybilwatch.yaml" sw_ship)
else()
  set(sw_have "")
  set(sw_ship "")
endif()
if(sw_have STREQUAL sw_ship)
  file(INSTALL DESTINATION "${SW_CONFIG_DIR}" TYPE FILE FILES "${SW_SYSTEMD_DIR}/sybilwatch.yaml")
else()
  message(STATUS "Keeping the existing ${sw_installed_config}; "
                 "the shipped default is installed beside it as sybilwatch.yaml.new")
  file(INSTALL DESTINATION "${SW_CONFIG_DIR}" TYPE FILE FILES "${SW_SYSTEMD_DIR}/sybilwatch.yaml"
       RENAME sybilwatch.yaml.new)
endif()
